// The provider's reference receiver, as its docs show it: express.json(), then 200.
// benches/ingest.rs starts it (node benches/support/express-receiver.js) as a baseline.
const express = require("express");
const app = express();
app.use(express.json());
app.use((req, res) => res.sendStatus(200));
const server = app.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
});
