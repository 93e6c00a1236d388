// Loaded into the emulator by test/dev-output.test.ts (NODE_OPTIONS `--import`, before tsx:
// hence plain JavaScript): once its parent asks
// over IPC, it prints with console.* what libsignal prints when a contact's session is
// replaced (a whole session record, key material included), an error, and a multi-line
// text, then answers `printed`.
process.on('message', (message) => {
  if (message !== 'print-console') return;
  const rootKey = Buffer.alloc(32, 7).toString('base64');
  console.info('Closing session:', { currentRatchet: { rootKey }, indexInfo: { closed: -1 } });
  console.warn('Session error:', new Error('Bad MAC'));
  console.log(`first line\nsecond line ${rootKey}`);
  process.send?.('printed');
});
