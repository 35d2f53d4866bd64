// The messages of runtime/proto/csi.proto (the CSI v1 subset we serve), field for field, as tables for
// ./codec/proto3.ts. test/runtime/wire/proto3-codec.test.ts checks every table against the .proto
// through protobufjs, so a field added to the .proto and not here fails there.
import { FieldSpec, MessageSpec, messageSpec } from './codec/proto3';

const str = (name: string, id: number): FieldSpec => ({ name, id, kind: 'string' });
const stringMap = (name: string, id: number): FieldSpec => ({ name, id, kind: 'string', map: true });
const msg = (name: string, id: number, message: MessageSpec, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  id,
  kind: 'message',
  message,
  ...extra,
});
const enumField = (name: string, id: number, names: readonly string[]): FieldSpec => ({
  name,
  id,
  kind: 'enum',
  enum: { names },
});
const empty = (name: string): MessageSpec => messageSpec(`.csi.v1.${name}`, []);

const boolValue = messageSpec('.google.protobuf.BoolValue', [{ name: 'value', id: 1, kind: 'bool' }]);

const pluginCapability = messageSpec('.csi.v1.PluginCapability', [
  msg(
    'service',
    1,
    messageSpec('.csi.v1.PluginCapability.Service', [
      enumField('type', 1, [
        'UNKNOWN',
        'CONTROLLER_SERVICE',
        'VOLUME_ACCESSIBILITY_CONSTRAINTS',
        'GROUP_CONTROLLER_SERVICE',
        'SNAPSHOT_METADATA_SERVICE',
      ]),
    ]),
    { oneof: 'type' },
  ),
  msg(
    'volume_expansion',
    2,
    messageSpec('.csi.v1.PluginCapability.VolumeExpansion', [
      enumField('type', 1, ['UNKNOWN', 'ONLINE', 'OFFLINE']),
    ]),
    { oneof: 'type' },
  ),
]);

const controllerServiceCapability = messageSpec('.csi.v1.ControllerServiceCapability', [
  msg(
    'rpc',
    1,
    messageSpec('.csi.v1.ControllerServiceCapability.RPC', [
      enumField('type', 1, [
        'UNKNOWN',
        'CREATE_DELETE_VOLUME',
        'PUBLISH_UNPUBLISH_VOLUME',
        'LIST_VOLUMES',
        'GET_CAPACITY',
        'CREATE_DELETE_SNAPSHOT',
        'LIST_SNAPSHOTS',
        'CLONE_VOLUME',
        'PUBLISH_READONLY',
        'EXPAND_VOLUME',
        'LIST_VOLUMES_PUBLISHED_NODES',
        'VOLUME_CONDITION',
        'GET_VOLUME',
        'SINGLE_NODE_MULTI_WRITER',
        'MODIFY_VOLUME',
        'GET_SNAPSHOT',
      ]),
    ]),
    { oneof: 'type' },
  ),
]);

const volumeCapability = messageSpec('.csi.v1.VolumeCapability', [
  msg('block', 1, messageSpec('.csi.v1.VolumeCapability.BlockVolume', []), { oneof: 'access_type' }),
  msg(
    'mount',
    2,
    messageSpec('.csi.v1.VolumeCapability.MountVolume', [
      str('fs_type', 1),
      { name: 'mount_flags', id: 2, kind: 'string', repeated: true },
      str('volume_mount_group', 3),
    ]),
    { oneof: 'access_type' },
  ),
  msg(
    'access_mode',
    3,
    messageSpec('.csi.v1.VolumeCapability.AccessMode', [
      enumField('mode', 1, [
        'UNKNOWN',
        'SINGLE_NODE_WRITER',
        'SINGLE_NODE_READER_ONLY',
        'MULTI_NODE_READER_ONLY',
        'MULTI_NODE_SINGLE_WRITER',
        'MULTI_NODE_MULTI_WRITER',
        'SINGLE_NODE_SINGLE_WRITER',
        'SINGLE_NODE_MULTI_WRITER',
      ]),
    ]),
  ),
]);

const capacityRange = messageSpec('.csi.v1.CapacityRange', [
  { name: 'required_bytes', id: 1, kind: 'int64' },
  { name: 'limit_bytes', id: 2, kind: 'int64' },
]);

const topology = messageSpec('.csi.v1.Topology', [stringMap('segments', 1)]);

const volumeUsage = messageSpec('.csi.v1.VolumeUsage', [
  { name: 'available', id: 1, kind: 'int64' },
  { name: 'total', id: 2, kind: 'int64' },
  { name: 'used', id: 3, kind: 'int64' },
  enumField('unit', 4, ['UNKNOWN', 'BYTES', 'INODES']),
]);

const volumeCondition = messageSpec('.csi.v1.VolumeCondition', [
  { name: 'abnormal', id: 1, kind: 'bool' },
  str('message', 2),
]);

const nodeServiceCapability = messageSpec('.csi.v1.NodeServiceCapability', [
  msg(
    'rpc',
    1,
    messageSpec('.csi.v1.NodeServiceCapability.RPC', [
      enumField('type', 1, [
        'UNKNOWN',
        'STAGE_UNSTAGE_VOLUME',
        'GET_VOLUME_STATS',
        'EXPAND_VOLUME',
        'VOLUME_CONDITION',
        'SINGLE_NODE_MULTI_WRITER',
        'VOLUME_MOUNT_GROUP',
      ]),
    ]),
    { oneof: 'type' },
  ),
]);

/** Every top-level message of csi.proto that a CSI method carries, by name. */
export const CSI_MESSAGES = {
  GetPluginInfoRequest: empty('GetPluginInfoRequest'),
  GetPluginInfoResponse: messageSpec('.csi.v1.GetPluginInfoResponse', [
    str('name', 1),
    str('vendor_version', 2),
    stringMap('manifest', 3),
  ]),
  GetPluginCapabilitiesRequest: empty('GetPluginCapabilitiesRequest'),
  GetPluginCapabilitiesResponse: messageSpec('.csi.v1.GetPluginCapabilitiesResponse', [
    msg('capabilities', 1, pluginCapability, { repeated: true }),
  ]),
  ProbeRequest: empty('ProbeRequest'),
  ProbeResponse: messageSpec('.csi.v1.ProbeResponse', [msg('ready', 1, boolValue)]),
  ControllerGetCapabilitiesRequest: empty('ControllerGetCapabilitiesRequest'),
  ControllerGetCapabilitiesResponse: messageSpec('.csi.v1.ControllerGetCapabilitiesResponse', [
    msg('capabilities', 1, controllerServiceCapability, { repeated: true }),
  ]),
  NodeStageVolumeRequest: messageSpec('.csi.v1.NodeStageVolumeRequest', [
    str('volume_id', 1),
    stringMap('publish_context', 2),
    str('staging_target_path', 3),
    msg('volume_capability', 4, volumeCapability),
    stringMap('secrets', 5),
    stringMap('volume_context', 6),
  ]),
  NodeStageVolumeResponse: empty('NodeStageVolumeResponse'),
  NodeUnstageVolumeRequest: messageSpec('.csi.v1.NodeUnstageVolumeRequest', [
    str('volume_id', 1),
    str('staging_target_path', 2),
  ]),
  NodeUnstageVolumeResponse: empty('NodeUnstageVolumeResponse'),
  NodePublishVolumeRequest: messageSpec('.csi.v1.NodePublishVolumeRequest', [
    str('volume_id', 1),
    stringMap('publish_context', 2),
    str('staging_target_path', 3),
    str('target_path', 4),
    msg('volume_capability', 5, volumeCapability),
    { name: 'readonly', id: 6, kind: 'bool' },
    stringMap('secrets', 7),
    stringMap('volume_context', 8),
  ]),
  NodePublishVolumeResponse: empty('NodePublishVolumeResponse'),
  NodeUnpublishVolumeRequest: messageSpec('.csi.v1.NodeUnpublishVolumeRequest', [
    str('volume_id', 1),
    str('target_path', 2),
  ]),
  NodeUnpublishVolumeResponse: empty('NodeUnpublishVolumeResponse'),
  NodeGetVolumeStatsRequest: messageSpec('.csi.v1.NodeGetVolumeStatsRequest', [
    str('volume_id', 1),
    str('volume_path', 2),
    str('staging_target_path', 3),
  ]),
  NodeGetVolumeStatsResponse: messageSpec('.csi.v1.NodeGetVolumeStatsResponse', [
    msg('usage', 1, volumeUsage, { repeated: true }),
    msg('volume_condition', 2, volumeCondition),
  ]),
  NodeExpandVolumeRequest: messageSpec('.csi.v1.NodeExpandVolumeRequest', [
    str('volume_id', 1),
    str('volume_path', 2),
    msg('capacity_range', 3, capacityRange),
    str('staging_target_path', 4),
    msg('volume_capability', 5, volumeCapability),
    stringMap('secrets', 6),
  ]),
  NodeExpandVolumeResponse: messageSpec('.csi.v1.NodeExpandVolumeResponse', [
    { name: 'capacity_bytes', id: 1, kind: 'int64' },
  ]),
  NodeGetCapabilitiesRequest: empty('NodeGetCapabilitiesRequest'),
  NodeGetCapabilitiesResponse: messageSpec('.csi.v1.NodeGetCapabilitiesResponse', [
    msg('capabilities', 1, nodeServiceCapability, { repeated: true }),
  ]),
  NodeGetInfoRequest: empty('NodeGetInfoRequest'),
  NodeGetInfoResponse: messageSpec('.csi.v1.NodeGetInfoResponse', [
    str('node_id', 1),
    { name: 'max_volumes_per_node', id: 2, kind: 'int64' },
    msg('accessible_topology', 3, topology),
  ]),
} as const;

type CsiMessageName = keyof typeof CSI_MESSAGES;

const rpc = (name: string) => ({
  request: CSI_MESSAGES[`${name}Request` as CsiMessageName],
  response: CSI_MESSAGES[`${name}Response` as CsiMessageName],
});

/** The methods of each CSI service, in the .proto's order. */
export const CSI_METHODS = {
  Identity: {
    GetPluginInfo: rpc('GetPluginInfo'),
    GetPluginCapabilities: rpc('GetPluginCapabilities'),
    Probe: rpc('Probe'),
  },
  Controller: { ControllerGetCapabilities: rpc('ControllerGetCapabilities') },
  Node: {
    NodeStageVolume: rpc('NodeStageVolume'),
    NodeUnstageVolume: rpc('NodeUnstageVolume'),
    NodePublishVolume: rpc('NodePublishVolume'),
    NodeUnpublishVolume: rpc('NodeUnpublishVolume'),
    NodeGetVolumeStats: rpc('NodeGetVolumeStats'),
    NodeExpandVolume: rpc('NodeExpandVolume'),
    NodeGetCapabilities: rpc('NodeGetCapabilities'),
    NodeGetInfo: rpc('NodeGetInfo'),
  },
} as const;
