// Entry point of the provider process; filled in by the provider issue.
export async function main(_args: string[]): Promise<void> {
  throw new Error('the provider is not built yet');
}
