// isListedMountPoint (issue 14): a republish reads mountinfo on a node with hundreds of mounts, so only the
// lines that hold the target are parsed; the answer must be the one a full parse of every line gives.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isListedMountPoint, readMountPoints } from '../../../../runtime/driver/volume/mounter';

describe('isListedMountPoint', () => {
  const mountInfo = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '40 22 0:35 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v/mount rw shared:2 - tmpfs tmpfs rw',
    '41 22 0:36 / /tmp/with\\040space rw shared:3 - tmpfs tmpfs rw',
    '42 22 0:37 / /tmp/back\\134slash rw - tmpfs tmpfs rw',
    '43 22 0:38 /var/lib/kubelet/pods/u2/volumes/kubernetes.io~csi/v/mount /bind rw - ext4 /dev/sda1 rw',
  ].join('\n');

  it('agrees with a full parse of every line', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mountinfo-')), 'mountinfo');
    fs.writeFileSync(file, mountInfo);
    const all = readMountPoints(file);
    const candidates = [
      ...all,
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v',
      // Field 4 (the root inside the filesystem) is not a mount point.
      '/var/lib/kubelet/pods/u2/volumes/kubernetes.io~csi/v/mount',
      '/tmp/with',
      '/tmp/with space/x',
      '/var',
    ];
    for (const target of candidates)
      expect([target, isListedMountPoint(mountInfo, target)]).toEqual([target, all.has(target)]);
    expect(all.has('/tmp/with space')).toBe(true);
    expect(all.has('/tmp/back\\slash')).toBe(true);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
