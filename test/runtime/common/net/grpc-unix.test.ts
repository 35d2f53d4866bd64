import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createUnixGrpcClient,
  socketPathFromEndpoint,
  startUnixGrpcServer,
  unaryCall,
  UnixGrpcServer,
} from '../../../../runtime/common/net/grpc-unix';
import { providerService } from '../../../../runtime/wire/provider-v1alpha1';

describe('unix-socket gRPC', () => {
  let dir: string;
  let started: UnixGrpcServer | undefined;
  const ctor = providerService();
  const seenAuthorities: string[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-unix-'));
  });
  afterEach(async () => {
    await started?.close(100);
    started = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(socketPath: string) {
    started = await startUnixGrpcServer({
      socketPath,
      services: [
        {
          definition: ctor.service,
          implementation: {
            Version: (
              call: grpc.ServerUnaryCall<{ version: string }, unknown>,
              cb: grpc.sendUnaryData<unknown>,
            ) => {
              seenAuthorities.push(String(call.metadata.get(':authority')[0] ?? call.getPath()));
              cb(null, { version: call.request.version, runtime_name: 'test', runtime_version: '1.0.0' });
            },
            Mount: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
              cb(null, { files: [{ path: 'a', mode: 420, contents: Buffer.alloc(5 * 1024 * 1024) }] }),
          },
        },
      ],
      maxSendMessageBytes: 16 * 1024 * 1024,
    });
    return started;
  }

  it('creates an owner-only socket, replacing a stale one, and removes it on close', async () => {
    const socketPath = path.join(dir, 'azure.sock');
    // A process that dies without closing its listener leaves a stale socket file behind.
    execFileSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.exit(0))`,
    ]);
    expect(fs.lstatSync(socketPath).isSocket()).toBe(true);
    const server = await start(socketPath);
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);
    const client = createUnixGrpcClient<grpc.Client>(ctor, socketPath);
    const response = await unaryCall<object, { runtime_name: string; version: string }>(client, 'Version', {
      version: 'v1alpha1',
    });
    expect(response).toEqual({ version: 'v1alpha1', runtime_name: 'test', runtime_version: '1.0.0' });
    client.close();
    await server.close(100);
    started = undefined;
    expect(fs.existsSync(socketPath)).toBe(false);
  });

  it('registers neither the server nor the client channel with channelz (no per-call bookkeeping)', async () => {
    const handlers = grpc.getChannelzHandlers();
    const ask = <T>(method: 'GetServers' | 'GetTopChannels', request: object) =>
      new Promise<T>((resolve, reject) =>
        (handlers[method] as unknown as (call: object, cb: (e: Error | null, r: T) => void) => void)(
          { request },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
    const counts = async () => ({
      servers: (await ask<{ server: unknown[] }>('GetServers', { start_server_id: 0 })).server.length,
      channels: (await ask<{ channel: unknown[] }>('GetTopChannels', { start_channel_id: 0 })).channel.length,
    });
    const before = await counts();
    const socketPath = path.join(dir, 'z.sock');
    await start(socketPath);
    const client = createUnixGrpcClient<grpc.Client>(ctor, socketPath);
    await unaryCall(client, 'Version', { version: 'v1alpha1' });
    // A control: a channel made without our options does register, so the count would have moved.
    const plain = new grpc.Client(`unix://${socketPath}`, grpc.credentials.createInsecure());
    expect(await counts()).toEqual({ servers: before.servers, channels: before.channels + 1 });
    plain.close();
    client.close();
  });

  it('refuses to remove something that is not a socket', async () => {
    const file = path.join(dir, 'azure.sock');
    fs.writeFileSync(file, 'x');
    await expect(start(file)).rejects.toThrow(/exists and is not a socket/);
  });

  it('client enforces the receive limit (4 MiB by default)', async () => {
    const socketPath = path.join(dir, 'p.sock');
    await start(socketPath);
    const client = createUnixGrpcClient<grpc.Client>(ctor, socketPath);
    await expect(unaryCall(client, 'Mount', {})).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
    });
    client.close();
    const big = createUnixGrpcClient<grpc.Client>(ctor, socketPath, {
      maxReceiveMessageBytes: 8 * 1024 * 1024,
    });
    const res = await unaryCall<object, { files: Array<{ contents: Buffer }> }>(big, 'Mount', {});
    expect(res.files[0].contents.length).toBe(5 * 1024 * 1024);
    big.close();
  });

  it.each([
    ['unix:///var/run/x/azure.sock', '/var/run/x/azure.sock'],
    ['unix:/tmp/a.sock', '/tmp/a.sock'],
    ['/tmp/b.sock', '/tmp/b.sock'],
  ])('socketPathFromEndpoint(%s)', (endpoint, expected) => {
    expect(socketPathFromEndpoint(endpoint)).toBe(expected);
  });

  it('rejects endpoints that are not unix sockets, naming the flag', () => {
    expect(() => socketPathFromEndpoint('tcp://127.0.0.1:1', '--endpoint')).toThrow(
      /--endpoint=tcp:\/\/127.0.0.1:1 is not a unix socket endpoint/,
    );
    expect(() => socketPathFromEndpoint('unix://relative.sock')).toThrow(/absolute socket path/);
  });
});
