// pm2 entry of the worker (ecosystem.config.cjs); see daemon.mjs beside it.
await import('../../packages/worker/src/main.ts');
