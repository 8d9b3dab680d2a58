/**
 * Debian's Chromium for the browser tests (playwright-core never downloads a browser). Tests skip without it, except
 * under CI, where .ci/run installs it and a missing browser must fail.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless, and no background networking: the sandbox's closed network would refuse it at every start. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True (with a printed reason) when the browser test must be skipped. */
export function skipWithoutChromium(what: string): boolean {
  const skip = !existsSync(CHROMIUM) && !process.env.CI;
  if (skip) console.warn(`skipping ${what}: ${CHROMIUM} is not installed (apt-get install -y chromium); CI always runs it`);
  return skip;
}

/** Evaluates a JavaScript expression in the page (as text: this project compiles without the DOM library). */
export const inPage = <T>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;
