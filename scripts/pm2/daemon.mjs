// pm2 entry of the daemon (ecosystem.config.cjs). pm2 would try ts-node for a `.ts` script;
// this plain module lets the `--import tsx` loader from node_args run the TypeScript source.
await import('../../packages/daemon/src/main.ts');
