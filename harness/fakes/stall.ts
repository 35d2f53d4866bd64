// A fault both fake services answer: no answer at all. The request is held until the client gives up
// (its socket closes) or `ms` pass, then its connection is dropped, as a hung server behind a load
// balancer does.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Holds `req` without answering; `timers` collects the pending drop so close() can cancel it. */
export function stallRequest(
  req: IncomingMessage,
  res: ServerResponse,
  ms: number,
  timers: Set<NodeJS.Timeout>,
): void {
  const timer = setTimeout(() => {
    timers.delete(timer);
    req.socket.destroy();
  }, ms);
  timers.add(timer);
  res.on('close', () => {
    clearTimeout(timer);
    timers.delete(timer);
  });
}
