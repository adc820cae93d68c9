// Drives the official Web Chat page of the Direct Line stand-in in headless Chromium (playwright-core, Debian's
// /usr/bin/chromium, no browser download) and prints one JSON line of what it saw.
//
// argv[2] is a JSON object:
//   pageUrl      the stand-in's /webchat page
//   modulesDir   tests/devhost/webchat/node_modules (where playwright-core is installed)
//   chromium     the browser executable
//   say          [{text?, upload?, expect: [texts that must appear after it]}], typed in turn into the send box (a
//                step without text only waits, for a message the bot sends on its own); `upload` is a list of
//                {name, mimeType, text | size (that many "x")} files chosen in the upload button's file input, as a
//                user picks them, and sent with the step's text; a step with `card: {screenshot}` then finds the last
//                Adaptive Card showing a progress bar (bot/progress_cards.py), saves a screenshot of it to that path
//                and reports the bar as rendered (see readProgressCard)
//   timeoutMs    bound for each wait
//
// Every request the page makes is recorded; any to a host other than 127.0.0.1 is aborted (so a regression cannot
// reach the internet) and reported in `offLoopback`. WebSockets are not routed by Playwright: each one the page
// opens is recorded in `webSockets` with the number of frames it received, and one off loopback is reported too.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const options = JSON.parse(process.argv[2]);
const { chromium } = require(path.join(options.modulesDir, 'playwright-core'));

// Flags from the reference (directline.md §4.2): no sandbox (root in CI), nothing phoning home.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function isLoopback(url) {
  if (url.startsWith('blob:') || url.startsWith('data:')) return true; // in-page objects, no network
  try {
    const { hostname } = new URL(url);
    return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
  } catch (error) {
    return false;
  }
}

// The last rendered Adaptive Card holding the progress bar: every column of its bar (by the ids the bot gives them)
// with its rendered box and computed background colour, the card's box, and the page's device pixel ratio, so the
// test can find the bar in the screenshot.
async function readProgressCard(page, screenshot, timeoutMs) {
  const card = page.locator('.ac-adaptiveCard', { has: page.locator('#progress-bar, [id="progress-bar"]') }).last();
  await card.waitFor({ timeout: timeoutMs });
  await card.scrollIntoViewIfNeeded();
  const read = await card.evaluate((element) => {
    const cardBox = element.getBoundingClientRect();
    const columns = [...element.querySelectorAll('[id^="progress-"]')]
      .filter((column) => column.id !== 'progress-bar')
      .map((column) => {
        const box = column.getBoundingClientRect();
        return {
          id: column.id,
          x: box.x - cardBox.x, y: box.y - cardBox.y, width: box.width, height: box.height,
          background: getComputedStyle(column).backgroundColor,
        };
      });
    return {
      columns,
      card: { width: cardBox.width, height: cardBox.height },
      text: element.innerText,
      devicePixelRatio: window.devicePixelRatio,
    };
  });
  await card.screenshot({ path: screenshot });
  return { ...read, screenshot };
}

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webchat-chromium-'));
  const requests = [];
  const offLoopback = [];
  const failedResponses = [];
  const consoleErrors = [];
  const webSockets = [];
  const cards = [];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: options.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLoopback(url)) return route.continue();
      offLoopback.push(url);
      return route.abort();
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
    page.on('response', (response) => {
      if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('websocket', (socket) => {
      const record = { url: socket.url(), framesReceived: 0, closed: false };
      webSockets.push(record);
      if (!isLoopback(socket.url())) offLoopback.push(socket.url());
      socket.on('framereceived', () => { record.framesReceived += 1; });
      socket.on('close', () => { record.closed = true; });
    });

    await page.goto(options.pageUrl, { timeout: options.timeoutMs });
    const input = page.locator('[data-id="webchat-sendbox-input"]');
    await input.waitFor({ timeout: options.timeoutMs });
    // Web Chat drops a message sent before its Direct Line connection is up (its post saga runs only while
    // connected), and the send box is usable before that: type only once the store says connected.
    await page.waitForFunction(
      () => window.webChatStore && ['connected', 'reconnected'].includes(window.webChatStore.getState().connectivityStatus),
      null,
      { timeout: options.timeoutMs },
    );
    for (const step of options.say) {
      if (step.upload !== undefined) {
        // Web Chat 4.18 keeps picked files in the send box until the message is sent (styleOptions
        // sendAttachmentOn defaults to "send"), so they go with the step's text, or alone on Enter.
        await page.locator('input[type="file"]').setInputFiles(step.upload.map(
          (file) => ({
            name: file.name,
            mimeType: file.mimeType,
            buffer: file.text !== undefined ? Buffer.from(file.text) : Buffer.alloc(file.size, 'x'),
          }),
        ));
      }
      if (step.text !== undefined || step.upload !== undefined) {
        await input.fill(step.text || '');
        await input.press('Enter');
      }
      for (const text of step.expect) {
        await page.getByText(text, { exact: true }).first().waitFor({ timeout: options.timeoutMs });
      }
      if (step.card) cards.push(await readProgressCard(page, step.card.screenshot, options.timeoutMs));
    }
    // Web Chat marks a message "sent" only when the stand-in echoes it with channelData.clientActivityID: wait for
    // every user message to leave the "sending" state, then report the states.
    await page.waitForFunction(
      () => window.webChatStore.getState().activities
        .filter((activity) => activity.from.role === 'user')
        .every((activity) => activity.channelData.state !== 'sending'),
      null,
      { timeout: options.timeoutMs },
    );
    const activities = await page.evaluate(() => window.webChatStore.getState().activities.map((activity) => ({
      type: activity.type,
      role: activity.from && activity.from.role,
      text: activity.text,
      id: activity.id,
      state: activity.channelData && activity.channelData.state,
    })));
    console.log(JSON.stringify({
      activities, requests, webSockets, offLoopback, failedResponses, consoleErrors, cards,
    }));
  } catch (error) {
    // What the page had got to, for the failure message.
    const page = context.pages()[0];
    const activities = page ? await page.evaluate(
      () => window.webChatStore && window.webChatStore.getState().activities,
    ).catch(() => null) : null;
    console.error(JSON.stringify({ activities, requests, webSockets, offLoopback, failedResponses, consoleErrors }));
    throw error;
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
