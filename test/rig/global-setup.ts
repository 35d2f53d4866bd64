// Starts the real components for the rig project; written by the test-rig issue.
export default async function globalSetup(): Promise<void> {}
