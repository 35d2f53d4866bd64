import * as grpc from '@grpc/grpc-js';
import { goGrpcCodeName } from '../../../../runtime/common/go-compat/grpc-code-names';
import { goGrpcErrorText } from '../../../../runtime/driver/provider-client/provider-clients';

describe("Go's gRPC code names", () => {
  it('names every grpc-js status as Go does (Canceled with one l, OK upper-case)', () => {
    const numeric = Object.values(grpc.status).filter((v): v is number => typeof v === 'number');
    expect(numeric).toHaveLength(17);
    for (const code of numeric) expect(goGrpcCodeName(code)).toMatch(/^[A-Z][A-Za-z]+$/);
    expect(goGrpcCodeName(grpc.status.OK)).toBe('OK');
    expect(goGrpcCodeName(grpc.status.CANCELLED)).toBe('Canceled');
    expect(goGrpcCodeName(grpc.status.DEADLINE_EXCEEDED)).toBe('DeadlineExceeded');
    expect(goGrpcCodeName(17)).toBeUndefined();
  });

  it("words the driver's pass-through text as upstream's, Code(N) for a code Go has no name for", () => {
    expect(goGrpcErrorText(grpc.status.CANCELLED, 'gone')).toBe('rpc error: code = Canceled desc = gone');
    expect(goGrpcErrorText(grpc.status.UNAVAILABLE, 'x')).toBe('rpc error: code = Unavailable desc = x');
    expect(goGrpcErrorText(42, 'x')).toBe('rpc error: code = Code(42) desc = x');
  });
});
