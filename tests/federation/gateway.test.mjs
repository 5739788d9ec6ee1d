// balance-graph behind a real Apollo Gateway (node:test; driven by tests/federation/test_gateway.py).
//
// Env: BG_URL       balance-graph's GraphQL URL (http://127.0.0.1:<port>/graphql)
//      USERS_URL    the users subgraph's GraphQL URL (users-subgraph.mjs)
//      EXPECT_JSON  what to check: users and the wallets they reference (as sent and canonical),
//                   exact raw balances, the chain with a dead node, the batching case
//      APOLLO_TELEMETRY_DISABLED=1 (required: nothing may leave the machine)
//
// Composes the two subgraph SDLs with @apollo/composition, serves the supergraph with
// ApolloGateway under @apollo/server on a free loopback port, and checks what a client gets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';

const { BG_URL, USERS_URL, EXPECT_JSON, APOLLO_TELEMETRY_DISABLED } = process.env;
assert.ok(BG_URL && USERS_URL && EXPECT_JSON, 'BG_URL, USERS_URL and EXPECT_JSON are required');
assert.ok(
  APOLLO_TELEMETRY_DISABLED === '1' || APOLLO_TELEMETRY_DISABLED === 'true',
  'set APOLLO_TELEMETRY_DISABLED=1: @apollo/gateway otherwise exports usage data to Apollo',
);
const expect = JSON.parse(EXPECT_JSON);
const METRICS_URL = new URL('/metrics', BG_URL).href;
const TOKENS = expect.tokens.map((t) => t.address);
const tokenInfo = Object.fromEntries(expect.tokens.map((t) => [t.address, t]));

// The gateway's subgraph requests go through Node's own fetch rather than make-fetch-happen,
// so an HTTP(S)_PROXY in the environment can never send loopback traffic elsewhere.
function loopbackFetch(url, init = {}) {
  const headers = {};
  if (typeof init.headers?.forEach === 'function') {
    init.headers.forEach((value, name) => {
      headers[name] = value;
    });
  } else {
    Object.assign(headers, init.headers);
  }
  return fetch(url, { ...init, headers });
}

// What each subgraph was sent and answered, so the client's view can be compared with ours.
const exchanges = [];
class RecordingDataSource extends RemoteGraphQLDataSource {
  didReceiveResponse({ request, response }) {
    exchanges.push({
      subgraph: this.name,
      operation: request.query,
      variables: structuredClone(request.variables ?? {}),
      response: structuredClone(response),
    });
    return response;
  }
}

async function post(url, query, variables) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${url} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function sdlOf(url) {
  const body = await post(url, '{ _service { sdl } }');
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data._service.sdl;
}

async function upstreamCalls(chain, method) {
  const text = await (await fetch(METRICS_URL)).text();
  const series = `upstream_requests_total{chain="${chain}",method="${method}"} `;
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length)) : 0;
}

// The subgraph fetches of a query plan, in order: [{ serviceName, operation }].
function fetches(node, out = []) {
  if (node && typeof node === 'object') {
    if (node.kind === 'Fetch') out.push({ serviceName: node.serviceName, operation: node.operation });
    for (const value of Object.values(node)) if (typeof value === 'object') fetches(value, out);
  }
  return out;
}

const CROSSING = `query Crossing($id: ID!, $chains: [String!], $tokens: [String!]) {
  user(id: $id) {
    id
    name
    wallets {
      address
      balances(chains: $chains, tokens: $tokens) {
        chain
        rawAmount
        account { address }
        token { address symbol decimals }
      }
    }
  }
}`;

let gatewayUrl;
let apollo;
const plans = new Map();

describe('balance-graph through Apollo Gateway', () => {
  before(async () => {
    const subgraphs = [
      { name: 'balances', url: BG_URL, typeDefs: parse(await sdlOf(BG_URL)) },
      { name: 'users', url: USERS_URL, typeDefs: parse(await sdlOf(USERS_URL)) },
    ];
    const composed = composeServices(subgraphs);
    const errors = (composed.errors ?? []).map((e) => e.toString());
    console.log(`composition: ${errors.length} errors, ${composed.hints?.length ?? 0} hints`);
    for (const hint of composed.hints ?? []) console.log(`  hint: ${hint.toString()}`);
    assert.deepEqual(errors, [], 'the subgraphs must compose');

    const gateway = new ApolloGateway({
      supergraphSdl: composed.supergraphSdl,
      buildService: ({ name, url }) => new RecordingDataSource({ name, url, fetcher: loopbackFetch }),
      experimental_didResolveQueryPlan: ({ queryPlan, operationContext }) => {
        plans.set(operationContext.operation.name?.value, fetches(queryPlan));
      },
    });
    apollo = new ApolloServer({
      gateway,
      // Production-like: no stack traces. Nothing masks subgraph errors: the gateway forwards
      // each one with its message and extensions (plus `serviceName`) at the client's path.
      includeStacktraceInErrorResponses: false,
      plugins: [
        ApolloServerPluginUsageReportingDisabled(),
        ApolloServerPluginSchemaReportingDisabled(),
        ApolloServerPluginInlineTraceDisabled(),
        ApolloServerPluginLandingPageDisabled(),
      ],
    });
    ({ url: gatewayUrl } = await startStandaloneServer(apollo, {
      listen: { port: 0, host: '127.0.0.1' },
    }));
    console.log(`gateway at ${gatewayUrl}`);
  });

  after(async () => {
    // Stops the HTTP server (the standalone drain plugin) and the gateway.
    await apollo?.stop().catch((error) => console.error(`stopping the gateway: ${error}`));
  });

  test('our resolve_reference canonicalizes Account and Token references', async () => {
    const { user } = expect;
    const usdc = expect.tokens.find((t) => t.address !== 'native');
    const body = await post(
      BG_URL,
      `query($r: [_Any!]!) { _entities(representations: $r) {
         ... on Account { address }
         ... on Token { chain address symbol decimals } } }`,
      {
        r: [
          ...user.sent.map((address) => ({ __typename: 'Account', address })),
          { __typename: 'Token', chain: expect.chain, address: usdc.address.toLowerCase() },
        ],
      },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data._entities, [
      ...user.wallets.map((address) => ({ address })),
      { chain: expect.chain, address: usdc.address, symbol: usdc.symbol, decimals: usdc.decimals },
    ]);
  });

  test('a query crossing both subgraphs gets users from one and exact balances from us', async () => {
    const { user } = expect;
    const variables = { id: user.id, chains: [expect.chain], tokens: TOKENS };
    const body = await post(gatewayUrl, CROSSING, variables);
    console.log(`crossing query:\n${CROSSING}\nvariables: ${JSON.stringify(variables)}`);
    console.log(`response:\n${JSON.stringify(body, null, 2)}`);
    const plan = plans.get('Crossing');
    for (const f of plan) console.log(`  fetch from ${f.serviceName}: ${f.operation}`);

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(
      plan.map((f) => f.serviceName),
      ['users', 'balances'],
    );
    assert.match(plan[1].operation, /_entities\(representations:\$representations\)/);
    const { user: got } = body.data;
    assert.equal(got.id, user.id);
    assert.equal(got.name, user.name); // from the users subgraph
    // `wallets.address` is the key the users subgraph sent (the planner never asks us for a key
    // it already has), so a lower-case reference stays lower case here...
    assert.deepEqual(
      got.wallets.map((w) => w.address),
      user.sent,
    );
    // ...while everything we resolve for it uses the canonical (EIP-55) account.
    for (const [index, wallet] of got.wallets.entries()) {
      const canonical = user.wallets[index];
      const rows = Object.fromEntries(wallet.balances.map((b) => [b.token.address, b]));
      assert.deepEqual(Object.keys(rows).sort(), [...TOKENS].sort(), canonical);
      for (const [token, raw] of Object.entries(expect.balances[canonical])) {
        assert.deepEqual(rows[token], {
          chain: expect.chain,
          rawAmount: raw,
          account: { address: canonical },
          token: { address: token, symbol: tokenInfo[token].symbol, decimals: tokenInfo[token].decimals },
        });
      }
    }
    const sentToUs = exchanges.findLast((e) => e.subgraph === 'balances');
    assert.deepEqual(
      sentToUs.variables.representations,
      user.sent.map((address) => ({ __typename: 'Account', address })),
    );
  });

  test('a dead chain keeps the good rows and its error reaches the client intact', async () => {
    const { user, deadChain } = expect;
    const variables = { id: user.id, chains: [expect.chain, deadChain], tokens: ['native'] };
    const body = await post(gatewayUrl, CROSSING, variables);
    console.log(`partial failure response:\n${JSON.stringify(body, null, 2)}`);
    const ours = exchanges.findLast((e) => e.subgraph === 'balances').response;
    console.log(`our subgraph's errors for that fetch: ${JSON.stringify(ours.errors)}`);

    // Every wallet keeps its good row (the devnet native balance); the dead chain's are gone.
    assert.deepEqual(
      body.data.user.wallets.map((w) => w.balances.map((b) => [b.chain, b.rawAmount])),
      user.wallets.map((a) => [[expect.chain, expect.balances[a].native]]),
    );
    // Our subgraph met the dead node once (one batch for both wallets) and tells each wallet
    // that its rows on that chain are missing: one error per wallet, naming chain and account.
    assert.equal(ours.errors.length, user.wallets.length, JSON.stringify(ours.errors));
    for (const [index, mine] of ours.errors.entries()) {
      assert.deepEqual(mine.path, ['_entities', index, 'balances']);
      assert.deepEqual(mine.extensions, {
        code: 'UPSTREAM_PROVIDER_ERROR',
        chain: deadChain,
        account: user.wallets[index],
        retryable: true,
      });
      assert.match(mine.message, new RegExp(`^${deadChain} node unreachable`));
    }
    // The client gets them intact: same messages, same extensions plus the gateway's
    // `serviceName`, and the paths rewritten from `_entities.i` into the client's response.
    assert.deepEqual(
      body.errors,
      ours.errors.map((mine, index) => ({
        message: mine.message,
        path: ['user', 'wallets', index, 'balances'],
        extensions: { ...mine.extensions, serviceName: 'balances' },
      })),
    );
  });

  test('_entities for 50 wallets costs one batched eth_call, not 50', async () => {
    const { batch } = expect;
    const query = `query Batch($id: ID!, $chains: [String!], $tokens: [String!]) {
      user(id: $id) {
        name
        wallets { balances(chains: $chains, tokens: $tokens, includeZero: true) { rawAmount account { address } } }
      }
    }`;
    const calls = await upstreamCalls(expect.chain, 'eth_call');
    const sentBefore = exchanges.length;
    const body = await post(gatewayUrl, query, {
      id: batch.id,
      chains: [expect.chain],
      tokens: [batch.token],
    });
    const delta = (await upstreamCalls(expect.chain, 'eth_call')) - calls;
    console.log(`${batch.count} wallets through _entities: eth_call +${delta}`);

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data.user.name, batch.name);
    assert.deepEqual(
      body.data.user.wallets,
      batch.wallets.map((address) => ({ balances: [{ rawAmount: '0', account: { address } }] })),
    );
    const ours = exchanges.slice(sentBefore).filter((e) => e.subgraph === 'balances');
    assert.equal(ours.length, 1, 'one _entities request for every wallet');
    assert.equal(ours[0].variables.representations.length, batch.count);
    assert.equal(delta, 1, 'one multicall for all the references');
  });
});
