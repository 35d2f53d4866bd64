// Stops what global-setup started; written by the test-rig issue.
export default async function globalTeardown(): Promise<void> {}
