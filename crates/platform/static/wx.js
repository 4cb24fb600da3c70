// wxcard's `wx`: the Mini Program JSAPI a card page uses, running against the wxcard
// simulator that served this file. A page includes it with
//   <script src="http://WXCARD/sim/wx.js"></script>
// and is opened with ?user=USER_ID&appid=MINI_PROGRAM_APPID (the simulator page's phone frame
// adds &client=OS/VERSION&lib=BASE_LIBRARY). Callbacks follow the Mini Program documentation:
// success or fail, then complete, each with {errMsg, ...}. APIs the user's base library lacks
// are absent (wx.addCard is undefined below 1.1.0), as in the real client.
(function () {
  'use strict';

  const script = document.currentScript;
  const platform = new URL(script.src).origin;
  const query = new URLSearchParams(window.location.search);
  const context = {
    user_id: query.get('user') || '',
    appid: query.get('appid') || '',
  };
  const COMPONENT_APPID = 'wxeb490c6f9b154ef9';

  // The user's client and base library: from the query, else from the simulator.
  function loadVersions() {
    if (query.get('lib') && query.get('client')) {
      const [os, version] = query.get('client').split('/');
      return { os, version, base_library: query.get('lib') };
    }
    if (!context.user_id) return { os: 'ios', version: '8.0.50', base_library: '3.5.0' };
    const request = new XMLHttpRequest();
    request.open('GET', platform + '/sim/v1/users/' + encodeURIComponent(context.user_id), false);
    request.send();
    const user = JSON.parse(request.responseText);
    return {
      os: (user.client && user.client.os) || 'ios',
      version: (user.client && user.client.version) || '8.0.50',
      base_library: user.base_library || '3.5.0',
    };
  }
  const versions = loadVersions();

  function below(version, minimum) {
    const given = String(version).split('.').map((part) => parseInt(part, 10) || 0);
    const wanted = minimum.split('.').map((part) => parseInt(part, 10));
    for (let i = 0; i < 3; i += 1) {
      if ((given[i] || 0) !== wanted[i]) return (given[i] || 0) < wanted[i];
    }
    return false;
  }

  // Base library each API appeared in (Mini Program documentation).
  const SINCE = {
    login: '1.0.0',
    getSystemInfo: '1.0.0',
    getSystemInfoSync: '1.0.0',
    canIUse: '1.1.1',
    addCard: '1.1.0',
    openCard: '1.1.0',
    navigateToMiniProgram: '1.3.0',
  };

  async function call(method, path, body) {
    const response = await fetch(platform + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return response.json();
  }

  // Calls success or fail by errMsg, then complete, as the client does.
  function settle(options, result) {
    const ok = /:ok$/.test(result.errMsg || '');
    try {
      if (ok && typeof options.success === 'function') options.success(result);
      if (!ok && typeof options.fail === 'function') options.fail(result);
    } finally {
      if (typeof options.complete === 'function') options.complete(result);
    }
  }

  function jsapi(name, path, body, options, after) {
    call('POST', path, Object.assign({ user_id: context.user_id, appid: context.appid }, body))
      .then((result) => {
        if (!result.errMsg) result.errMsg = name + ':fail ' + (result.errmsg || 'no answer');
        settle(options, result);
        if (after && /:ok$/.test(result.errMsg)) after(result);
      })
      .catch((error) => settle(options, { errMsg: name + ':fail ' + error.message }));
  }

  // App({onLaunch, onShow}): the page's App object; onShow runs on load and on every return.
  let app = {};
  function show(options) {
    if (typeof app.onShow === 'function') app.onShow(options);
  }
  window.App = function (definition) {
    app = definition || {};
    const launch = { scene: 1001, query: Object.fromEntries(query.entries()) };
    setTimeout(() => {
      if (typeof app.onLaunch === 'function') app.onLaunch(launch);
      show(launch);
    }, 0);
    return app;
  };
  window.getApp = () => app;

  // The card-opening component, drawn over the page the way the client shows it.
  function overlay() {
    let layer = document.getElementById('wxcard-overlay');
    if (!layer) {
      layer = document.createElement('div');
      layer.id = 'wxcard-overlay';
      layer.setAttribute('role', 'dialog');
      layer.style.cssText =
        'position:fixed;inset:0;background:#f6f6f6;overflow:auto;padding:16px;font:15px system-ui,sans-serif;z-index:1000';
      document.body.appendChild(layer);
    }
    layer.replaceChildren();
    return layer;
  }

  function element(tag, text, attributes) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    return node;
  }

  function fieldInput(field) {
    const label = element('label', field.name, { class: 'wxcard-field' });
    label.style.cssText = 'display:block;margin:8px 0';
    if (field.kind === 'rich') {
      const box = element('div');
      for (const value of field.values) {
        const type = field.type === 'FORM_FIELD_CHECK_BOX' ? 'checkbox' : 'radio';
        const option = element('label', null);
        option.style.cssText = 'margin-right:12px';
        const input = element('input', null, { type, name: field.name, value, 'data-rich': field.name });
        if (field.value === value || (field.value_list || []).includes(value)) input.checked = true;
        option.append(input, document.createTextNode(' ' + value));
        box.append(option);
      }
      label.append(box);
    } else {
      const input = element('input', null, {
        'data-kind': field.kind,
        'data-name': field.name,
        value: field.value || '',
      });
      input.style.cssText = 'display:block;width:100%;box-sizing:border-box;padding:6px';
      label.append(input);
    }
    return label;
  }

  function collect(layer) {
    const common = [];
    const custom = [];
    for (const input of layer.querySelectorAll('input[data-name]')) {
      const entry = { name: input.getAttribute('data-name'), value: input.value };
      (input.getAttribute('data-kind') === 'common' ? common : custom).push(entry);
    }
    const rich = {};
    for (const input of layer.querySelectorAll('input[data-rich]')) {
      const name = input.getAttribute('data-rich');
      rich[name] = rich[name] || { name, value: '', value_list: [] };
      if (input.checked) {
        if (input.type === 'checkbox') rich[name].value_list.push(input.value);
        else rich[name].value = input.value;
      }
    }
    return { common_field_list: common, custom_field_list: custom.concat(Object.values(rich)) };
  }

  async function openComponent(session) {
    const view = await call('GET', '/sim/v1/component/' + session);
    const layer = overlay();
    layer.append(element('h2', (view.card && view.card.title) || 'Member card'));
    layer.append(element('p', view.member && view.member.kind === 'existing'
      ? 'Welcome back: you are already known to this merchant.'
      : 'Fill in the form to open the card.'));
    for (const [title, form] of [['Required', view.required_form], ['Optional', view.optional_form]]) {
      if (!form || !form.fields.length) continue;
      layer.append(element('h3', title));
      for (const field of form.fields) layer.append(fieldInput(field));
    }
    const message = element('p', '', { id: 'wxcard-component-message', role: 'status' });
    const submit = element('button', 'Submit', { id: 'wxcard-component-submit' });
    const back = element('button', 'Back', { id: 'wxcard-component-cancel' });
    submit.style.cssText = 'margin-right:8px;padding:8px 16px';
    back.style.cssText = 'padding:8px 16px';
    layer.append(message, submit, back);
    submit.onclick = async () => {
      const result = await call('POST', '/sim/v1/component/' + session + '/submit', collect(layer));
      if (result.errcode) {
        message.textContent = result.errmsg;
        return;
      }
      layer.remove();
      show(result);
    };
    back.onclick = async () => {
      const result = await call('POST', '/sim/v1/component/' + session + '/cancel', {});
      layer.remove();
      show(result);
    };
  }

  async function showCard(item) {
    const cards = await call('GET', '/sim/v1/users/' + encodeURIComponent(context.user_id) + '/cards');
    const held = (cards.cards || []).find((card) => card.card_id === item.cardId && card.code === item.code) || {};
    const layer = overlay();
    layer.append(element('h2', held.title || item.cardId));
    layer.append(element('p', 'Code ' + item.code, { class: 'wxcard-code' }));
    const close = element('button', 'Close', { id: 'wxcard-card-close' });
    close.onclick = () => layer.remove();
    layer.append(close);
  }

  const wx = {
    login(options = {}) {
      jsapi('login', '/sim/v1/login', {}, options);
    },
    addCard(options = {}) {
      jsapi('addCard', '/sim/v1/addCard', { cardList: options.cardList || [] }, options);
    },
    openCard(options = {}) {
      const list = options.cardList || [];
      jsapi('openCard', '/sim/v1/openCard', { cardList: list }, options, () => {
        if (list.length) showCard(list[0]);
      });
    },
    navigateToMiniProgram(options = {}) {
      jsapi(
        'navigateToMiniProgram',
        '/sim/v1/navigateToMiniProgram',
        { appId: options.appId, extraData: options.extraData || {} },
        options,
        (result) => {
          if (options.appId === COMPONENT_APPID) openComponent(result.session);
        }
      );
    },
    getSystemInfoSync() {
      return {
        platform: versions.os,
        system: versions.os === 'android' ? 'Android' : 'iOS',
        version: versions.version,
        SDKVersion: versions.base_library,
      };
    },
    getSystemInfo(options = {}) {
      settle(options, Object.assign({ errMsg: 'getSystemInfo:ok' }, wx.getSystemInfoSync()));
    },
    canIUse(name) {
      const api = String(name).split('.')[0];
      return Object.prototype.hasOwnProperty.call(SINCE, api) && !below(versions.base_library, SINCE[api]);
    },
  };
  // APIs the user's base library does not have do not exist.
  for (const [api, since] of Object.entries(SINCE)) {
    if (below(versions.base_library, since)) delete wx[api];
  }
  window.wx = wx;
})();
