// Loaded into scripts/dev.ts by test/dev-lifetime.test.ts (`--import`): SIGUSR2 makes the
// dev script throw an exception nobody catches, as a bug in it would.
process.on('SIGUSR2', () => {
  throw new Error('injected crash of the dev script');
});
