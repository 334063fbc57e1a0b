// Shared by the browser tests: where screenshots go, required environment, and how to
// start Debian's Chromium here (no sandbox as root, no background networking on a closed
// network).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');

/** A required environment variable; exits 2 naming the script when it is missing. */
export function env(script, name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${script}: environment variable ${name} is required`);
    process.exit(2);
  }
  return v;
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
