import { SECRETS_STORE_CSI_DRIVER_NAME } from '../core';

// Names shared with the Pulumi front end, exported from this entry point too.

/** CSI driver name of the Secrets Store CSI Driver (the core's SECRETS_STORE_CSI_DRIVER_NAME). */
export const SECRETS_STORE_CSI_DRIVER = SECRETS_STORE_CSI_DRIVER_NAME;
export {
  DEFAULT_SECRETS_STORE_MOUNT_PATH,
  RELOADER_SECRET_ANNOTATION,
  WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_USE_LABEL,
} from '../core';
