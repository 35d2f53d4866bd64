import { knownCloud } from '../../../runtime/provider/clouds';
import { parseMountRequest } from '../../../runtime/provider/parameters';
import { WARM_UP_NAMES, warmUpMountPath, warmUpMountRequest } from '../../../runtime/provider/warm-up';

// The provider calls warmUpMountPath before it serves its socket and only logs a failure, so a made-up
// request that stopped parsing, or stopped reaching the objects, would silently turn the warm-up off:
// these tests are what notice.
describe('warmUpMountPath', () => {
  it('parses its made-up Mount as a workload-identity Mount of every warm-up object', async () => {
    const params = await parseMountRequest(warmUpMountRequest(), {
      defaultCloud: knownCloud('AzurePublicCloud'),
      cloudFiles: { directory: '' },
    });
    expect(params.objects.map((o) => o.objectName)).toEqual(WARM_UP_NAMES);
    expect(params.identity.kind).toBe('workload-identity');
  });

  it('resolves for each known cloud (a failure would only be logged at start)', async () => {
    for (const cloud of ['AzurePublicCloud', 'AzureUSGovernmentCloud', 'AzureChinaCloud']) {
      await expect(warmUpMountPath(knownCloud(cloud))).resolves.toBeUndefined();
    }
  });
});
