// What the dashboard reads out of the Durable HTTP API's JSON: pure functions, no DOM, so node can test them
// (tests/devhost/dashboard/test_model.py). Everything read here is untrusted and may have any shape: each
// function checks the types it relies on and says plainly when a shape is unknown.
'use strict';

(function (root) {
  const CONVERSATION_PREFIX = /^(op-[0-9a-f]{12}-)/;
  // contract/progress.py Stage, every value.
  const STAGES = ['running', 'waiting', 'notifying', 'completed', 'failed', 'timed_out'];
  const ACTIVE = ['Running', 'Pending', 'Suspended'];

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function isInt(value) {
    return typeof value === 'number' && Number.isInteger(value);
  }

  // The conversation an instance belongs to: its `op-<12 hex>-` prefix (contract/instance_ids.py), or null.
  function conversationOf(instanceId) {
    const match = typeof instanceId === 'string' ? CONVERSATION_PREFIX.exec(instanceId) : null;
    return match ? match[1] : null;
  }

  // The project's Progress shape (contract/progress.py), or null when the custom status is something else.
  function progressOf(status) {
    if (!isObject(status) || typeof status.option !== 'string' || !STAGES.includes(status.stage)) return null;
    if (!isInt(status.step) || !isInt(status.steps) || !isInt(status.percent)) return null;
    const message = typeof status.message === 'string' ? status.message : '';
    const percent = Math.max(0, Math.min(100, status.percent));
    return { option: status.option, stage: status.stage, step: status.step, steps: status.steps, percent, message };
  }

  function firstLine(value) {
    if (value === undefined || value === null) return '';
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return (text === undefined ? '' : text).split('\n', 1)[0].trim();
  }

  // A refusal receipt's facts, as contract/receipt.py describes them: "HTTP 404, code ConversationNotFound: ...".
  function describeRefusal(refusal) {
    const status = isInt(refusal.channelStatus) ? `HTTP ${refusal.channelStatus}` : 'no answer';
    const code = typeof refusal.channelCode === 'string' && refusal.channelCode ? `, code ${refusal.channelCode}` : '';
    const detail = typeof refusal.detail === 'string' && refusal.detail ? `: ${refusal.detail}` : '';
    return `${status}${code}${detail}`;
  }

  // Whether the outcome reached the conversation, from the runtime status, the output (notify_bot's result:
  // orchestrator/payloads.py NotifyResult, with an optional `refusal` receipt) and the custom status.
  // Returns {state, text}; state is one of delivered, refused, delivering, pending, undelivered, unknown.
  function deliveryOf(instance) {
    const item = isObject(instance) ? instance : {};
    const runtime = typeof item.runtimeStatus === 'string' ? item.runtimeStatus : '';
    const progress = progressOf(item.customStatus);
    const output = item.output;
    if (ACTIVE.includes(runtime)) {
      if (progress && progress.stage === 'notifying') {
        return { state: 'delivering', text: `Not yet: delivering. ${progress.message}`.trim() };
      }
      return { state: 'pending', text: `Not yet: the operation is ${runtime.toLowerCase()}.` };
    }
    if (runtime === 'Completed') {
      if (isObject(output) && isObject(output.refusal)) {
        return { state: 'refused', text: `No: the conversation's channel refused it (${describeRefusal(output.refusal)}).` };
      }
      if (isObject(output) && isObject(output.outcome) && typeof output.directLineActivityId === 'string'
          && output.directLineActivityId) {
        const status = typeof output.outcome.status === 'string' ? output.outcome.status : 'unknown';
        return { state: 'delivered', text: `Yes: the ${status} outcome was posted as Direct Line activity ` +
          `${output.directLineActivityId}.` };
      }
      return { state: 'unknown', text: 'Unknown: the orchestration completed, but its output does not say where ' +
        'the outcome went.' };
    }
    if (runtime === 'Failed') {
      const why = firstLine(output);
      return { state: 'undelivered', text: why ? `No: the orchestration failed: ${why}` : 'No: the orchestration failed.' };
    }
    if (runtime === 'Terminated') {
      const why = firstLine(output);
      return { state: 'undelivered', text: why ? `No: terminated (${why}).` : 'No: terminated.' };
    }
    return { state: 'unknown', text: runtime ? `Unknown: runtime status ${runtime}.` : 'Unknown: no runtime status.' };
  }

  function brief(value, max) {
    if (value === undefined || value === null) return '';
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  // The history (showHistory=true&showHistoryOutput=true) as timeline entries: offset from the first event,
  // what happened, and a short detail. Events of unknown shape still get a line.
  function timelineOf(events) {
    if (!Array.isArray(events)) return [];
    const times = events.map((event) => (isObject(event) ? Date.parse(event.Timestamp) : NaN));
    const start = times.find((time) => !Number.isNaN(time));
    return events.map((event, index) => {
      const item = isObject(event) ? event : {};
      const type = typeof item.EventType === 'string' ? item.EventType : 'unknown event';
      const name = typeof item.FunctionName === 'string' ? item.FunctionName : '';
      let detail = '';
      if ('Result' in item) detail = brief(item.Result, 160);
      else if ('Reason' in item) detail = brief(item.Reason, 160);
      else if ('FireAt' in item) detail = `fires at ${brief(item.FireAt, 40)}`;
      else if ('Details' in item) detail = brief(item.Details, 160);
      const time = times[index];
      const offsetSeconds = Number.isNaN(time) || start === undefined ? null : (time - start) / 1000;
      return { type, name, detail, offsetSeconds, timestamp: typeof item.Timestamp === 'string' ? item.Timestamp : '' };
    });
  }

  // The sentence for an error answer: the dashboard's {"error"}, the extension's {"Message", "ExceptionMessage"} or a
  // JSON string (412 for a purge of a running instance, HttpApiHandler.cs), else the status and the body's start.
  function problemOf(status, text) {
    try {
      const body = JSON.parse(text);
      if (isObject(body) && typeof body.error === 'string') return body.error;
      if (isObject(body) && typeof body.ExceptionMessage === 'string') return body.ExceptionMessage;
      if (isObject(body) && typeof body.Message === 'string') return body.Message;
      if (typeof body === 'string' && body) return body;
    } catch (error) { /* not JSON: shown as it is below */ }
    return `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  }

  // What a refused terminate or purge means, for the answers the extension sends with an empty body (404, 410;
  // HttpApiHandler.cs); null for any other status, whose body says it.
  function refusalOf(action, status, id) {
    if (action === 'terminate' && status === 404) return `Cannot terminate ${id}: the functions host does not know it.`;
    if (action === 'terminate' && status === 410) return `Cannot terminate ${id}: it has already finished.`;
    if (action === 'purge' && status === 404) return `Cannot purge ${id}: the functions host does not know it.`;
    return null;
  }

  const api = { conversationOf, progressOf, deliveryOf, timelineOf, refusalOf, problemOf, brief, ACTIVE };
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.DashboardModel = api;
})(typeof window !== 'undefined' ? window : globalThis);
