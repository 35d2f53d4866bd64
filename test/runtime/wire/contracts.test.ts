// The contract modules against the .proto files they stand for: the method paths the provider labels its
// metrics with, the services kubelet calls, and the exact encoded size the driver's receive limit meets.
import { csiService } from '../../../runtime/wire/csi';
import { healthService } from '../../../runtime/wire/grpc-health';
import {
  encodedMountResponseSize,
  MOUNT_METHOD,
  MountResponse,
  mountResponseContentBytes,
  providerService,
  VERSION_METHOD,
} from '../../../runtime/wire/provider-v1alpha1';

describe('wire contracts', () => {
  it('names the provider methods as the proto defines them', () => {
    const service = providerService().service;
    expect(Object.keys(service).sort()).toEqual(['Mount', 'Version']);
    expect(service.Mount.path).toBe(MOUNT_METHOD);
    expect(service.Version.path).toBe(VERSION_METHOD);
  });

  it('serves the CSI node, identity and controller RPCs kubelet and the sidecars call', () => {
    expect(Object.keys(csiService('Node').service)).toEqual(
      expect.arrayContaining([
        'NodePublishVolume',
        'NodeUnpublishVolume',
        'NodeGetCapabilities',
        'NodeGetInfo',
      ]),
    );
    expect(Object.keys(csiService('Identity').service).sort()).toEqual([
      'GetPluginCapabilities',
      'GetPluginInfo',
      'Probe',
    ]);
    expect(csiService('Controller').service.ControllerGetCapabilities.path).toBe(
      '/csi.v1.Controller/ControllerGetCapabilities',
    );
    expect(healthService().service.Check.path).toBe('/grpc.health.v1.Health/Check');
  });

  it('measures a MountResponse as the protobuf encoding (field tags and lengths included)', () => {
    const response: MountResponse = {
      object_version: [{ id: 'secret/a', version: 'v1' }],
      error: null,
      files: [{ path: 'a', mode: 420, contents: Buffer.alloc(1000, 1) }],
    };
    // files: tag + 2-byte length + (path 3 + mode 3 + contents 3 + 1000) = 1012; object_version: 2 + 14.
    expect(encodedMountResponseSize(response)).toBe(1028);
    expect(mountResponseContentBytes(response)).toBe(1000);
  });

  it("serializes a measured response with the measurement's bytes, once, and any other afresh", () => {
    const serialize = providerService().service.Mount.responseSerialize as (v: unknown) => Buffer;
    const decode = providerService().service.Mount.responseDeserialize as (b: Buffer) => MountResponse;
    const response: MountResponse = {
      object_version: [{ id: 'secret/a', version: 'v1' }],
      error: null,
      files: [{ path: 'a', mode: 420, contents: Buffer.from('value') }],
    };
    const size = encodedMountResponseSize(response);
    const sent = serialize(response);
    expect(sent.length).toBe(size);
    expect(decode(sent)).toEqual(response);
    // The measured bytes are handed over once; a second send encodes the object again, equal bytes.
    const again = serialize(response);
    expect(again).not.toBe(sent);
    expect(again.equals(sent)).toBe(true);
    // A response that was never measured is encoded as before.
    const other: MountResponse = { ...response, files: [] };
    expect(decode(serialize(other))).toEqual({ ...other, files: [] });
  });

  it('decodes a response with absent fields as empty lists and a null error', () => {
    const service = providerService().service.Mount;
    const bytes = (service.responseSerialize as (v: unknown) => Buffer)({});
    const decoded = (service.responseDeserialize as (b: Buffer) => MountResponse)(bytes);
    expect(decoded).toEqual({ object_version: [], error: null, files: [] });
  });
});
