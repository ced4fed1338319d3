/*
 * Sessionscope browser script: reports the device's signals and the visitor's behaviour
 * counts to POST /v1/collect, and keeps the session id for the page to hand to its backend.
 *
 *   <script src="https://SESSIONSCOPE_HOST/sdk.js" data-key="ss_pk_..." async></script>
 *   Sessionscope.session().then(({session_id, device_id}) => ...)
 *
 * Plain ES2019, no dependencies. Nothing here may break the host page: every step is
 * guarded, and no promise handed to the page ever rejects.
 */
(() => {
  'use strict';

  if (window.Sessionscope && window.Sessionscope.init) return;

  const FLUSH_EVERY_MS = 10000;
  const SIGNALS_WAIT_MS = 1500;
  const ACTIVE_GAP_MS = 5000;
  const YEAR_SECONDS = 31536000;
  const SESSION_NAME = 'ss_sid';
  const TOKEN_NAME = 'ss_dt';
  const TOTALS_NAME = 'ss_totals';
  const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const COUNTERS = [
    'mouse_num_events', 'click_num_events', 'keyboard_num_events', 'touch_num_events',
    'clipboard_num_events', 'scroll_num_events', 'page_views', 'active_ms',
  ];
  const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const DEVICE_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
  // Frames that CDP-driven automation leaves when it calls into the page.
  const AUTOMATION_FRAMES = /UtilityScript\.|__puppeteer_evaluation_script__|pptr:/;
  const SELENIUM_NAMES = [
    '_selenium', 'callSelenium', '_Selenium_IDE_Recorder', '__webdriver_script_fn',
    '__driver_evaluate', '__webdriver_evaluate', '__selenium_evaluate', '__fxdriver_evaluate',
    '__driver_unwrapped', '__webdriver_unwrapped', '__selenium_unwrapped', '__fxdriver_unwrapped',
    '__webdriverFunc', '__lastWatirAlert', '__lastWatirConfirm', '__lastWatirPrompt',
  ];

  const script = document.currentScript;
  const state = {
    key: null,
    collectUrl: null,
    sessionId: null,
    deviceId: null,
    signals: null,
    signalsChanged: false,
    opened: false,
    opening: null,
    inFlight: false,
    pending: zeroCounts(),
    dirty: false,
    lastActivity: -Infinity,
    observed: [],
  };

  // ---- small helpers -------------------------------------------------------------------

  function zeroCounts() {
    const counts = {};
    COUNTERS.forEach((name) => { counts[name] = 0; });
    return counts;
  }

  function attempt(work, fallback) {
    try {
      return work();
    } catch (error) {
      return fallback;
    }
  }

  function text(value, limit) {
    return typeof value === 'string' && value ? value.slice(0, limit) : null;
  }

  function number(value, high, whole) {
    if (typeof value !== 'number' || !isFinite(value)) return null;
    const bounded = Math.min(Math.max(value, 0), high);
    return whole ? Math.round(bounded) : bounded;
  }

  function within(promise, ms, fallback) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(fallback), ms);
      Promise.resolve(promise).then(
        (value) => { clearTimeout(timer); resolve(value); },
        () => { clearTimeout(timer); resolve(fallback); },
      );
    });
  }

  // FNV-1a over the UTF-16 code units, twice with different primes: 16 hex characters.
  function digest(input) {
    let first = 0x811c9dc5;
    let second = 0x5bd1e995;
    for (let i = 0; i < input.length; i += 1) {
      const unit = input.charCodeAt(i);
      first = Math.imul(first ^ unit, 0x01000193);
      second = Math.imul(second ^ unit, 0x2545f491);
    }
    const hex = (value) => (value >>> 0).toString(16).padStart(8, '0');
    return hex(first) + hex(second);
  }

  // ---- first-party persistence: cookie and localStorage, either may be missing ---------

  const storage = {
    get: (name) => attempt(() => window.localStorage.getItem(name), null),
    set: (name, value) => attempt(() => window.localStorage.setItem(name, value)),
    drop: (name) => attempt(() => window.localStorage.removeItem(name)),
  };

  function readCookie(name) {
    return attempt(() => {
      const found = document.cookie.split('; ').find((part) => part.indexOf(name + '=') === 0);
      return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
    }, null);
  }

  function writeCookie(name, value, maxAge) {
    attempt(() => {
      const secure = location.protocol === 'https:' ? '; Secure' : '';
      document.cookie = name + '=' + encodeURIComponent(value) + '; path=/; max-age=' + maxAge
        + '; SameSite=Lax' + secure;
    });
  }

  function remember(name, value) {
    storage.set(name, value);
    writeCookie(name, value, YEAR_SECONDS);
  }

  function recall(name, pattern) {
    const value = readCookie(name) || storage.get(name);
    return value && pattern.test(value) ? value : null;
  }

  function forget(name) {
    storage.drop(name);
    writeCookie(name, '', 0);
  }

  function deviceToken() {
    const known = recall(TOKEN_NAME, DEVICE_TOKEN);
    if (known) return known;
    const made = attempt(() => {
      const bytes = new Uint8Array(24);
      window.crypto.getRandomValues(bytes);
      return Array.from(bytes, (byte) => TOKEN_ALPHABET[byte & 63]).join('');
    }, null);
    if (made) remember(TOKEN_NAME, made);
    return made;
  }

  // ---- behaviour: running totals for the session, shared by the tabs through storage ----

  const memoryTotals = { sessionId: null, counts: zeroCounts() };

  function readTotals(sessionId) {
    const saved = attempt(() => JSON.parse(storage.get(TOTALS_NAME) || 'null'), null);
    const source = saved || memoryTotals;
    const counts = zeroCounts();
    if (source.sessionId === sessionId && source.counts) {
      COUNTERS.forEach((name) => { counts[name] = number(source.counts[name], 2 ** 53, true) || 0; });
    }
    return counts;
  }

  function writeTotals(sessionId, counts) {
    memoryTotals.sessionId = sessionId;
    memoryTotals.counts = counts;
    storage.set(TOTALS_NAME, JSON.stringify(memoryTotals));
  }

  // The stored totals plus what this page counted since its last report.
  function takeTotals() {
    const counts = readTotals(state.sessionId);
    COUNTERS.forEach((name) => {
      counts[name] = Math.round(counts[name] + state.pending[name]);
      state.pending[name] = 0;
    });
    state.dirty = false;
    writeTotals(state.sessionId, counts);
    return counts;
  }

  function count(counter) {
    state.pending[counter] += 1;
    state.dirty = true;
    const now = performance.now();
    const gap = now - state.lastActivity;
    if (gap <= ACTIVE_GAP_MS) state.pending.active_ms += gap;
    state.lastActivity = now;
  }

  function listen() {
    const events = {
      mousemove: 'mouse_num_events',
      click: 'click_num_events',
      keydown: 'keyboard_num_events',
      touchstart: 'touch_num_events',
      touchmove: 'touch_num_events',
      copy: 'clipboard_num_events',
      cut: 'clipboard_num_events',
      paste: 'clipboard_num_events',
      scroll: 'scroll_num_events',
    };
    Object.keys(events).forEach((type) => {
      window.addEventListener(type, (event) => {
        if (event.isTrusted) attempt(() => count(events[type]));
      }, { capture: true, passive: true });
    });
    window.addEventListener('pagehide', () => attempt(() => report(true)));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') attempt(() => report(true));
    });
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) attempt(() => { state.pending.page_views += 1; state.dirty = true; });
    });
    setInterval(() => attempt(tick), FLUSH_EVERY_MS);
  }

  // ---- signals -------------------------------------------------------------------------

  function gpu() {
    return attempt(() => {
      const canvas = document.createElement('canvas');
      const gl = canvas.getContext('webgl') || canvas.getContext('experimental-webgl');
      if (!gl) return {};
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const found = {
        vendor: gl.getParameter(info ? info.UNMASKED_VENDOR_WEBGL : gl.VENDOR),
        renderer: gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER),
      };
      const loser = gl.getExtension('WEBGL_lose_context');
      if (loser) loser.loseContext();
      return found;
    }, {});
  }

  function canvasHash() {
    return attempt(() => {
      const canvas = document.createElement('canvas');
      canvas.width = 240;
      canvas.height = 60;
      const context = canvas.getContext('2d');
      if (!context) return null;
      const phrase = 'Sessionscope, fjord quiz \u{1F50D} 3.14';
      context.textBaseline = 'top';
      context.font = '16px Arial, sans-serif';
      context.fillStyle = '#f60';
      context.fillRect(110, 2, 90, 26);
      context.fillStyle = '#069';
      context.fillText(phrase, 3, 6);
      context.fillStyle = 'rgba(90, 200, 30, 0.7)';
      context.fillText(phrase, 5, 9);
      context.beginPath();
      context.arc(40, 42, 14, 0, Math.PI * 2);
      context.stroke();
      return digest(canvas.toDataURL());
    }, null);
  }

  function audioHash() {
    return new Promise((resolve) => {
      const Offline = window.OfflineAudioContext || window.webkitOfflineAudioContext;
      if (!Offline) { resolve(null); return; }
      const context = new Offline(1, 5000, 44100);
      const oscillator = context.createOscillator();
      oscillator.type = 'triangle';
      oscillator.frequency.value = 10000;
      const compressor = context.createDynamicsCompressor();
      compressor.threshold.value = -50;
      compressor.knee.value = 40;
      compressor.ratio.value = 12;
      compressor.attack.value = 0;
      compressor.release.value = 0.25;
      oscillator.connect(compressor);
      compressor.connect(context.destination);
      oscillator.start(0);
      context.oncomplete = (event) => {
        resolve(attempt(() => {
          const samples = event.renderedBuffer.getChannelData(0);
          let sum = 0;
          for (let i = 4500; i < samples.length; i += 1) sum += Math.abs(samples[i]);
          return digest(sum.toString());
        }, null));
      };
      const rendering = context.startRendering();
      if (rendering && rendering.catch) rendering.catch(() => resolve(null));
    });
  }

  function brandList(brands, limit) {
    if (!Array.isArray(brands)) return null;
    return brands.slice(0, limit).map((entry) => ({
      brand: text(entry && entry.brand, 512) || '',
      version: text(entry && entry.version, 512) || '',
    }));
  }

  async function userAgentData() {
    const data = navigator.userAgentData;
    if (!data) return null;
    const found = {
      brands: brandList(data.brands, 20),
      mobile: typeof data.mobile === 'boolean' ? data.mobile : null,
      platform: text(data.platform, 512),
    };
    if (!data.getHighEntropyValues) return found;
    const high = await data.getHighEntropyValues([
      'platformVersion', 'model', 'architecture', 'bitness', 'fullVersionList', 'formFactors',
    ]);
    found.platform_version = text(high.platformVersion, 512);
    found.model = text(high.model, 512);
    found.architecture = text(high.architecture, 512);
    found.bitness = text(high.bitness, 512);
    found.full_version_list = brandList(high.fullVersionList, 20);
    found.form_factors = Array.isArray(high.formFactors)
      ? high.formFactors.slice(0, 10).map((item) => text(item, 512) || '') : null;
    return found;
  }

  async function permissionsInconsistent() {
    if (!navigator.permissions || !window.Notification) return false;
    const status = await navigator.permissions.query({ name: 'notifications' });
    return window.Notification.permission === 'denied' && status.state === 'prompt';
  }

  function available(name) {
    return attempt(() => {
      const area = window[name];
      area.setItem('ss_probe', '1');
      area.removeItem('ss_probe');
      return true;
    }, false);
  }

  function isNative(fn) {
    return typeof fn !== 'function'
      || Function.prototype.toString.call(fn).indexOf('[native code]') >= 0;
  }

  function platformMismatch(ua, platform) {
    if (!platform) return false;
    const expected = [
      [/Windows/, /^Win/], [/Android/, /^(Linux|Android)/], [/iPhone|iPod/, /^iP(hone|od)/],
      [/Macintosh/, /^(Mac|iPad)/], [/X11|CrOS|Linux/, /^Linux/],
    ].find((pair) => pair[0].test(ua));
    return Boolean(expected) && !expected[1].test(platform);
  }

  function automationTraces(renderer, brands) {
    const ua = navigator.userAgent || '';
    const names = attempt(() => Object.keys(document), []);
    const root = document.documentElement;
    const chrome = /\bChrome\//.test(ua);
    const mobile = /Mobile|Android/.test(ua);
    const webdriverGetter = attempt(
      () => Object.getOwnPropertyDescriptor(Navigator.prototype, 'webdriver').get, null);
    const checks = {
      webdriver: navigator.webdriver === true,
      headless_user_agent: /Headless/i.test(ua),
      headless_ua_data: (brands || []).some((entry) => /Headless/i.test(entry.brand)),
      selenium_globals: SELENIUM_NAMES.some((name) => name in window || name in document)
        || names.some((name) => /^\$?cdc_|^\$wdc_/.test(name))
        || ['webdriver', 'selenium', 'driver'].some((name) => root.hasAttribute(name)),
      phantom_globals: 'callPhantom' in window || '_phantom' in window || 'phantom' in window,
      nightmare_globals: '__nightmare' in window,
      playwright_globals: '__playwright__binding__' in window || '__pwInitScripts' in window,
      dom_automation: 'domAutomation' in window || 'domAutomationController' in window,
      missing_chrome_object: chrome && !window.chrome,
      zero_outer_size: window.outerWidth === 0 && window.outerHeight === 0,
      no_plugins: chrome && !mobile && navigator.plugins && navigator.plugins.length === 0,
      no_languages: !navigator.languages || navigator.languages.length === 0,
      software_gpu: /SwiftShader|llvmpipe|softpipe/i.test(renderer || ''),
      webdriver_overridden: Object.prototype.hasOwnProperty.call(navigator, 'webdriver')
        || !isNative(webdriverGetter),
      native_function_tampered: [
        navigator.permissions && navigator.permissions.query,
        HTMLCanvasElement.prototype.toDataURL,
        window.WebGLRenderingContext && WebGLRenderingContext.prototype.getParameter,
      ].some((fn) => !isNative(fn)),
      platform_mismatch: platformMismatch(ua, navigator.platform),
    };
    return Object.keys(checks).filter((code) => attempt(() => Boolean(checks[code]), false));
  }

  function noteCaller() {
    attempt(() => {
      const stack = String(new Error().stack || '');
      if (AUTOMATION_FRAMES.test(stack)) observe('cdp_runtime');
    });
  }

  function observe(code) {
    if (state.observed.indexOf(code) >= 0) return;
    state.observed.push(code);
    if (state.signals && state.signals.automation.indexOf(code) < 0) {
      state.signals.automation.push(code);
      state.signalsChanged = true;
    }
  }

  function screenSignals() {
    const screen = window.screen || {};
    return {
      screen_width: number(screen.width, 100000, true),
      screen_height: number(screen.height, 100000, true),
      avail_width: number(screen.availWidth, 100000, true),
      avail_height: number(screen.availHeight, 100000, true),
      viewport_width: number(window.innerWidth, 100000, true),
      viewport_height: number(window.innerHeight, 100000, true),
      pixel_ratio: number(window.devicePixelRatio, 100, false),
      color_depth: number(screen.colorDepth, 256, true),
    };
  }

  function localeSignals() {
    const languages = Array.isArray(navigator.languages)
      ? navigator.languages.slice(0, 32).map((item) => text(item, 64)).filter(Boolean) : null;
    const offset = -new Date().getTimezoneOffset();
    return {
      timezone: attempt(() => text(Intl.DateTimeFormat().resolvedOptions().timeZone, 64), null),
      timezone_offset_minutes: Math.abs(offset) <= 1440 ? offset : null,
      language: text(navigator.language, 64),
      languages: languages && languages.length ? languages : null,
    };
  }

  function hardwareSignals(graphics) {
    return {
      hardware_concurrency: number(navigator.hardwareConcurrency, 4096, true),
      device_memory: number(navigator.deviceMemory, 65536, false),
      gpu_vendor: text(graphics.vendor, 512),
      gpu_renderer: text(graphics.renderer, 512),
      platform: text(navigator.platform, 64),
      touch_points: number(navigator.maxTouchPoints, 256, true),
    };
  }

  function browserSignals() {
    return {
      webdriver: typeof navigator.webdriver === 'boolean' ? navigator.webdriver : null,
      plugins_count: number(navigator.plugins && navigator.plugins.length, 10000, true),
      mime_types_count: number(navigator.mimeTypes && navigator.mimeTypes.length, 10000, true),
      cookies_enabled: typeof navigator.cookieEnabled === 'boolean' ? navigator.cookieEnabled : null,
      local_storage: available('localStorage'),
      session_storage: available('sessionStorage'),
      indexed_db: attempt(() => Boolean(window.indexedDB), false),
    };
  }

  async function collectSignals() {
    const graphics = gpu();
    const [uaData, audio, permissions] = await Promise.all([
      within(attempt(userAgentData, null), SIGNALS_WAIT_MS, null),
      within(attempt(audioHash, null), SIGNALS_WAIT_MS, null),
      within(attempt(permissionsInconsistent, false), SIGNALS_WAIT_MS, false),
    ]);
    const automation = automationTraces(graphics.renderer, uaData && uaData.brands);
    if (permissions) automation.push('permissions_inconsistent');
    state.observed.forEach((code) => {
      if (automation.indexOf(code) < 0) automation.push(code);
    });
    const signals = Object.assign(
      {}, screenSignals(), localeSignals(), hardwareSignals(graphics), browserSignals(),
      { ua_data: uaData, canvas_hash: canvasHash(), audio_hash: audio },
    );
    signals.automation = automation.slice(0, 64);
    const token = deviceToken();
    if (token) signals.device_token = token;
    Object.keys(signals).forEach((name) => {
      if (signals[name] === null) delete signals[name];
    });
    return signals;
  }

  // ---- talking to the service ----------------------------------------------------------

  function pageUrl() {
    return text(location.href.split('#')[0], 4096);
  }

  async function post(payload) {
    const response = await fetch(state.collectUrl, {
      method: 'POST',
      body: JSON.stringify(payload),
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      credentials: 'omit',
      keepalive: true,
    });
    const body = await response.json().catch(() => null);
    return { status: response.status, body };
  }

  function ids() {
    return { session_id: state.sessionId, device_id: state.deviceId };
  }

  function adopt(answer) {
    state.sessionId = answer.session_id;
    state.deviceId = answer.device_id || null;
    remember(SESSION_NAME, state.sessionId);
    state.opened = true;
  }

  // Drop the session id; the next report opens a new session that starts at this page.
  function abandonSession() {
    forget(SESSION_NAME);
    state.sessionId = null;
    state.opened = false;
    state.pending = zeroCounts();
    state.pending.page_views = 1;
    writeTotals(null, zeroCounts());
  }

  function sessionRefused(result) {
    const field = result.body && result.body.error && result.body.error.details
      ? result.body.error.details.field : null;
    return result.status === 404 || result.status === 409
      || (result.status === 400 && field === 'session_id');
  }

  async function open() {
    if (!state.signals) state.signals = await collectSignals();
    for (let round = 0; round < 2; round += 1) {
      const payload = {
        signals: state.signals,
        behaviour: takeTotals(),
        page_url: pageUrl(),
        referrer: text(document.referrer, 4096),
      };
      if (state.sessionId) payload.session_id = state.sessionId;
      if (!payload.referrer) delete payload.referrer;
      const result = await post(payload);
      if (result.status < 300 && result.body && result.body.session_id) {
        adopt(result.body);
        writeTotals(state.sessionId, payload.behaviour);
        state.signalsChanged = false;
        return;
      }
      if (!(state.sessionId && sessionRefused(result))) return;
      abandonSession();
    }
  }

  function startOpening() {
    state.inFlight = true;
    state.opening = open().catch(() => undefined).then(() => { state.inFlight = false; });
    return state.opening;
  }

  function report(asBeacon) {
    if (!state.opened) return Promise.resolve();
    if (!state.dirty && !state.signalsChanged) return Promise.resolve();
    const payload = { session_id: state.sessionId, behaviour: takeTotals() };
    if (state.signalsChanged) payload.signals = state.signals;
    state.signalsChanged = false;
    if (asBeacon && navigator.sendBeacon) {
      navigator.sendBeacon(state.collectUrl, JSON.stringify(payload));
      return Promise.resolve();
    }
    return post(payload).then((result) => {
      if (!sessionRefused(result)) return undefined;
      abandonSession();
      return startOpening();
    }).catch(() => undefined);
  }

  function tick() {
    if (!state.key) return;
    if (!state.opened) {
      if (!state.inFlight) startOpening();
      return;
    }
    report(false);
  }

  // ---- the page's interface ------------------------------------------------------------

  function endpointOf(options) {
    if (options.endpoint) return String(options.endpoint).replace(/\/+$/, '');
    const fromScript = script && script.dataset && script.dataset.endpoint;
    if (fromScript) return fromScript.replace(/\/+$/, '');
    return script && script.src ? new URL(script.src).origin : location.origin;
  }

  function init(options) {
    if (state.key) return state.opening.then(ids);
    const settings = options || {};
    if (typeof settings.key !== 'string' || !settings.key) return Promise.resolve(ids());
    state.key = settings.key;
    state.collectUrl = endpointOf(settings) + '/v1/collect?key=' + encodeURIComponent(state.key);
    state.sessionId = recall(SESSION_NAME, SESSION_ID);
    state.pending.page_views += 1;
    listen();
    return startOpening().then(ids);
  }

  function guarded(work) {
    return (...args) => {
      try {
        noteCaller();
        return Promise.resolve(work(...args)).catch(() => ids());
      } catch (error) {
        return Promise.resolve(ids());
      }
    };
  }

  window.Sessionscope = {
    version: '1',
    init: guarded(init),
    session: guarded(() => (state.opening ? state.opening.then(ids) : ids())),
    flush: guarded(() => (state.opening || Promise.resolve()).then(() => report(false)).then(ids)),
    reset: guarded(() => {
      if (!state.key) return ids();
      return state.opening.then(() => {
        abandonSession();
        return startOpening();
      }).then(ids);
    }),
  };

  attempt(() => {
    const key = script && script.dataset && script.dataset.key;
    if (key) window.Sessionscope.init({ key });
  });
})();
