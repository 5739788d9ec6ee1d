// A tiny "users" subgraph (Apollo Federation v2) for the gateway test: users own wallets, and a
// wallet is a reference to balance-graph's `Account` entity (which this subgraph cannot resolve).
//
// Env: USERS_JSON   [{"id": "1", "name": "Ada", "wallets": ["0xabc...", ...]}, ...]
//      USERS_PORT   port to listen on (default 0: a free port)
// Prints one JSON line {"url": "http://127.0.0.1:<port>/graphql"} once it listens; stops on
// SIGTERM/SIGINT or when stdin closes (so it never outlives its parent).
import fs from 'node:fs';
import http from 'node:http';
import { parse, graphql } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';

const users = JSON.parse(process.env.USERS_JSON ?? '[]');
const byId = new Map(users.map((user) => [String(user.id), user]));

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type User @key(fields: "id") {
    id: ID!
    name: String!
    wallets: [Account!]!
  }

  type Account @key(fields: "address", resolvable: false) {
    address: String!
  }

  type Query {
    user(id: ID!): User
    users: [User!]!
  }
`);

const resolvers = {
  Query: {
    user: (_, { id }) => byId.get(String(id)) ?? null,
    users: () => users,
  },
  User: {
    __resolveReference: ({ id }) => byId.get(String(id)) ?? null,
    // References only: balance-graph resolves everything else about an Account.
    wallets: (user) => user.wallets.map((address) => ({ __typename: 'Account', address })),
  },
};

const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (path !== '/graphql') return send(res, 404, { errors: [{ message: 'not found' }] });
  if (req.method !== 'POST') return send(res, 405, { errors: [{ message: 'POST only' }] });
  let request;
  try {
    request = JSON.parse(await readBody(req));
  } catch {
    return send(res, 400, { errors: [{ message: 'body is not JSON' }] });
  }
  const result = await graphql({
    schema,
    source: request.query,
    variableValues: request.variables,
    operationName: request.operationName,
  });
  send(res, 200, result);
});

server.listen(Number(process.env.USERS_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql` })}\n`);
});

function shutdown() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (fs.fstatSync(0).isFIFO()) {
  process.stdin.on('end', shutdown);
  process.stdin.resume();
}
