// Drives the devhost dashboard in headless Chromium (playwright-core from tests/devhost/webchat/node_modules,
// Debian's /usr/bin/chromium) and prints one JSON line of what it saw.
//
// argv[2] is a JSON object:
//   pageUrl      the dashboard's page (with ?refresh=)
//   modulesDir   where playwright-core is installed
//   chromium     the browser executable
//   instanceId   a running operation: its bar must move, then it is terminated and purged with the buttons
//   hostileId    an instance whose id is HTML: it must show as text
//   screenshot   where to write a PNG of the page, once the operation shows Terminated
//   timeoutMs    bound for each wait
//
// Every request is recorded; any to a host other than 127.0.0.1 is aborted and reported in `offLoopback`.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const options = JSON.parse(process.argv[2]);
const { chromium } = require(path.join(options.modulesDir, 'playwright-core'));

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function isLoopback(url) {
  try {
    return new URL(url).hostname === '127.0.0.1';
  } catch (error) {
    return false;
  }
}

// Installed in the page (as an init script, which the page's CSP does not govern; its own scripts may not eval):
// the row of one instance id, compared as data, never put into a selector.
function installRowState() {
  window.__rowState = function rowState(id) {
    const row = [...document.querySelectorAll('tr.instance')].find((r) => r.dataset.instanceId === id);
    if (!row) return null;
    const bar = row.querySelector('progress');
    return {
      idText: row.querySelector('td.id').textContent,
      percent: bar.hasAttribute('value') ? bar.value : null,
      status: row.querySelector('td.status').textContent,
      delivery: row.querySelector('td.delivery').textContent,
      group: (() => {
        let previous = row.previousElementSibling;
        while (previous && !previous.classList.contains('conversation')) previous = previous.previousElementSibling;
        return previous ? previous.querySelector('span').textContent : null;
      })(),
    };
  };
}

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-chromium-'));
  const requests = [];
  const offLoopback = [];
  const failedResponses = [];
  const consoleErrors = [];
  const dialogs = [];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: options.chromium, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 },
  });
  const wait = { timeout: options.timeoutMs, polling: 100 };
  try {
    await context.addInitScript(installRowState);
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
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.accept(); });
    await page.goto(options.pageUrl, { timeout: options.timeoutMs });

    const id = options.instanceId;
    // The bar moves: a first percentage above 0, then a larger one.
    const first = await (await page.waitForFunction(
      (id) => { const s = window.__rowState(id); return s && s.percent > 0 && s.percent; },
      id, wait)).jsonValue();
    const second = await (await page.waitForFunction(
      ([id, first]) => {
        const s = window.__rowState(id);
        return s && s.percent > first && s.percent;
      },
      [id, first], wait)).jsonValue();
    const running = await page.evaluate((id) => window.__rowState(id), id);

    // Its history, as a timeline, once selected. Wait for a checkpointed step in it: just after a continue-as-new
    // (every StepsPerGeneration steps) the new generation's history holds no TaskCompleted yet, and the panel
    // refreshes with the list.
    const row = page.locator('tr.instance').filter({ has: page.getByText(id, { exact: true }) });
    await row.locator('td.id').click();
    await page.waitForFunction(
      (id) => document.getElementById('detail-id').textContent === id
        && [...document.querySelectorAll('#timeline li .type')].some((type) => type.textContent === 'TaskCompleted'),
      id, wait);
    const timeline = await page.evaluate(() => [...document.querySelectorAll('#timeline li')].map(
      (item) => item.querySelector('.type').textContent));
    const conversation = await page.evaluate(() => document.getElementById('detail-conversation').textContent);

    // An id that is HTML shows as text, and nothing it says runs.
    await page.waitForFunction(
      (id) => { const s = window.__rowState(id); return s && s.status === 'Failed'; }, options.hostileId, wait);
    const hostile = await page.evaluate((id) => ({
      row: window.__rowState(id),
      injected: window.__xss === undefined ? null : window.__xss,
      images: document.querySelectorAll('img').length,
    }), options.hostileId);

    // Terminate with the button; the row shows Terminated.
    await row.locator('button.terminate').click();
    await page.waitForFunction(
      (id) => { const s = window.__rowState(id); return s && s.status === 'Terminated'; },
      id, wait);
    const terminated = await page.evaluate((id) => window.__rowState(id), id);
    const notice = await page.evaluate(() => document.getElementById('notice').textContent);
    await page.screenshot({ path: options.screenshot, fullPage: true });

    // Purge with the button; the row goes.
    await row.locator('button.purge').click();
    await page.waitForFunction(
      (id) => window.__rowState(id) === null, id, wait);
    const purgedNotice = await page.evaluate(() => document.getElementById('notice').textContent);

    console.log(JSON.stringify({
      first, second, running, timeline, conversation, hostile, terminated, notice, purgedNotice, dialogs,
      requests, offLoopback, failedResponses, consoleErrors,
    }));
  } catch (error) {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: options.screenshot, fullPage: true }).catch(() => null);
    const error_ = page ? await page.evaluate(() => document.getElementById('error').textContent).catch(() => null) : null;
    console.error(JSON.stringify({ pageError: error_, dialogs, requests: requests.slice(-20), offLoopback, failedResponses, consoleErrors }));
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
