// Launching Debian's Chromium (/usr/bin/chromium) through playwright-core,
// shared by the browser test drivers. No Playwright browser download is
// needed: Playwright's own default flags are switched off and Chromium gets
// exactly FLAGS (plus extra), a fresh profile and the debugging pipe.
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];

// WEBRTC_LOOPBACK lets two local browsers connect: host ICE candidates carry
// real addresses instead of mDNS names.
export const WEBRTC_LOOPBACK = '--disable-features=WebRtcHideLocalIpsWithMdns';

// launch starts Chromium with FLAGS, extra flags, the profile directory and
// the pipe Playwright talks over.
export function launch(profile, extra = []) {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: true,
    args: [...FLAGS, ...extra, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'],
    viewport: { width: 1280, height: 800 },
  });
}
