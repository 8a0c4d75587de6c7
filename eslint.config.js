// `npm run lint`: eslint's recommended rules on the pages' scripts (plain browser scripts, no bundler), the service
// worker, the widget's loader, and the node tests of tests/js/.
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  {
    ignores: ["node_modules/", ".venv/", "instance/"]
  },
  js.configs.recommended,
  {
    rules: {
      // The pages' scripts are ES5-style, where `catch (error)` must name the error it may not use.
      "no-unused-vars": ["error", { caughtErrors: "none" }]
    }
  },
  {
    files: ["marketplace/static/**/*.js"],
    ignores: ["marketplace/static/js/service-worker.js"],
    languageOptions: {
      sourceType: "script",
      globals: {
        ...globals.browser,
        io: "readonly",                 // socket.io's client, vendored from node_modules
        Chart: "readonly",              // chart.js, vendored likewise
        MarketplaceClock: "readonly",   // js/clock.js, loaded before the scripts that use it
        MarketplaceChatLog: "readonly", // js/chat_log.js, likewise
        MarketplaceCannedAnswers: "readonly",  // js/canned_answers.js, loaded before inbox.js
        MarketplaceChatScreen: "readonly",     // js/chat_screen.js, likewise
        MarketplaceAttachments: "readonly",    // js/attachments.js, loaded before widget.js and inbox.js
        MarketplaceChannelWindow: "readonly"   // js/channel_window.js, loaded before inbox.js
      }
    }
  },
  {
    // Loaded by the pages and, under node, by their tests: they export through `module` there.
    files: ["marketplace/static/js/clock.js", "marketplace/static/js/chat_log.js",
            "marketplace/static/js/canned_answers.js", "marketplace/static/js/attachments.js",
            "marketplace/static/js/channel_window.js"],
    languageOptions: { globals: { module: "readonly", require: "readonly" } }
  },
  {
    files: ["marketplace/static/js/service-worker.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.serviceworker } }
  },
  {
    files: ["tests/js/**/*.js", "eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } }
  }
];
