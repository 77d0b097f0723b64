// NocoDB's HTTP server: an Express app with NocoDB mounted on it (the npm
// package is the library; upstream's image wraps it the same way).
'use strict';
const http = require('http');
const express = require('express');
const { Noco } = require('nocodb');

const port = Number(process.env.PORT || 8080);
const app = express();
app.enable('trust proxy');
app.disable('etag');
app.disable('x-powered-by');
const server = http.createServer(app);
server.listen(port, async () => {
  try {
    app.use(await Noco.init({}, server, app));
    console.log(`NocoDB listening on ${port}`);
  } catch (e) {
    console.error('NocoDB failed to start:', e);
    process.exit(1);
  }
});
