// Stands in for Intercom's widget script: records what the page asked of the Messenger.
(function () {
  var queued = (window.Intercom && window.Intercom.q) || [];
  window.__widget = { loaded: true, bootedWith: JSON.parse(JSON.stringify(window.intercomSettings || null)), calls: [] };
  window.Intercom = function () { window.__widget.calls.push(Array.prototype.slice.call(arguments)); };
  queued.forEach(function (args) { window.Intercom.apply(null, args); });
})();
