// An independent OCPP charger for checking chargeops' gateway with code that shares none of its assumptions.
//
// Built on the npm package ocpp-rpc in strict mode: every call and every answer, in both directions, is
// validated against the OCA JSON schemas that ship with ocpp-rpc (not the Python `ocpp` library's copies).
// It runs one full session and exits:
//
//   OCPP 1.6:   BootNotification, StatusNotification, Authorize, StartTransaction, MeterValues…,
//               StopTransaction, Heartbeat
//   OCPP 2.0.1: BootNotification, StatusNotification, Authorize, TransactionEvent Started/Updated…/Ended,
//               Heartbeat
//
// and meanwhile answers what a gateway converging it may call: GetConfiguration / ChangeConfiguration
// (1.6), GetVariables / SetVariables (2.0.1), SendLocalList and GetLocalListVersion (both), plus
// TriggerMessage (Rejected) and ClearCache. It prints one JSON line per exchange and a final
// {"summary": …} line, and exits 1 on any CALLERROR (sent or received), schema violation or bad frame,
// 2 if Authorize did not answer the status given by --expect (default Accepted), 3 on a crash.
//
//   node charger.mjs --url ws://127.0.0.1:9000/ocpp --id NODE-1 --password … --version 1.6 --id-tag TAG-1

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { RPCClient } from 'ocpp-rpc';

const { values: args } = parseArgs({
    options: {
        url: { type: 'string' },
        id: { type: 'string' },
        password: { type: 'string' },
        version: { type: 'string', default: '1.6' },
        'id-tag': { type: 'string', default: 'NODE-TAG-1' },
        expect: { type: 'string', default: 'Accepted' },
        samples: { type: 'string', default: '3' },
        'interval-ms': { type: 'string', default: '200' },
        'linger-ms': { type: 'string', default: '1500' },
        'timeout-ms': { type: 'string', default: '10000' },
    },
});
if (!args.url || !args.id || !['1.6', '2.0.1'].includes(args.version)) {
    console.error('usage: node charger.mjs --url WS_URL --id ID [--password PW] --version 1.6|2.0.1 [--id-tag TAG]');
    process.exit(64);
}

const v16 = args.version === '1.6';
const failures = [];
const statuses = [];
const inbound = {};
let exchanges = 0;

function emit(record) {
    console.log(JSON.stringify({ t: new Date().toISOString(), ...record }));
}

function fail(kind, detail) {
    failures.push({ kind, ...detail });
    emit({ failure: kind, ...detail });
}

const client = new RPCClient({
    endpoint: args.url,
    identity: args.id,
    password: args.password,
    protocols: [v16 ? 'ocpp1.6' : 'ocpp2.0.1'],
    strictMode: true,
    reconnect: false,
    callTimeoutMs: Number(args['timeout-ms']),
});

client.on('strictValidationFailure', (event) => fail('schema', {
    method: event.method, outbound: event.outbound, isCall: event.isCall, error: String(event.error?.message ?? event.error),
}));
client.on('callError', (event) => fail('callError', {
    method: event.method, outbound: event.outbound, error: event.error?.rpcErrorCode ?? String(event.error),
}));
client.on('badMessage', (event) => fail('badMessage', { error: String(event.error?.message ?? event.error) }));

// --- what the gateway may call --------------------------------------------------------------------------

// 1.6 configuration keys (§9) of this charger; read-only ones answer Rejected, unknown ones NotSupported.
const configuration = new Map([
    ['AuthorizeRemoteTxRequests', { value: 'true', readonly: false }],
    ['AllowOfflineTxForUnknownId', { value: 'false', readonly: false }],
    ['AuthorizationCacheEnabled', { value: 'true', readonly: false }],
    ['HeartbeatInterval', { value: '300', readonly: false }],
    ['LocalAuthListEnabled', { value: 'true', readonly: false }],
    ['LocalAuthListMaxLength', { value: '1000', readonly: true }],
    ['LocalAuthorizeOffline', { value: 'true', readonly: false }],
    ['LocalPreAuthorize', { value: 'false', readonly: false }],
    ['MeterValueSampleInterval', { value: '60', readonly: false }],
    ['NumberOfConnectors', { value: '1', readonly: true }],
    ['SendLocalListMaxLength', { value: '100', readonly: true }],
    ['StopTransactionOnInvalidId', { value: 'true', readonly: false }],
]);
// 2.0.1 variables, "Component.Variable".
const variables = new Map([
    ['AuthCtrlr.Enabled', { value: 'true', readonly: false }],
    ['AuthCtrlr.LocalAuthorizeOffline', { value: 'true', readonly: false }],
    ['AuthCtrlr.LocalPreAuthorize', { value: 'false', readonly: false }],
    ['AuthCacheCtrlr.Enabled', { value: 'true', readonly: false }],
    ['LocalAuthListCtrlr.Enabled', { value: 'true', readonly: false }],
    ['LocalAuthListCtrlr.ItemsPerMessage', { value: '100', readonly: true }],
    ['LocalAuthListCtrlr.BytesPerMessage', { value: '65536', readonly: true }],
    ['OCPPCommCtrlr.HeartbeatInterval', { value: '300', readonly: false }],
    ['SampledDataCtrlr.TxUpdatedInterval', { value: '60', readonly: false }],
]);
const localList = { version: 0, entries: new Map(), maxLength: 1000, maxPerMessage: 100 };

function applyLocalList(version, updateType, items, tokenOf, infoOf) {
    if (items.length > localList.maxPerMessage) return 'Failed';
    let entries;
    if (updateType === 'Full') {
        entries = new Map(items.filter((item) => infoOf(item)).map((item) => [tokenOf(item), infoOf(item)]));
    } else {
        if (version <= localList.version) return 'VersionMismatch';
        entries = new Map(localList.entries);
        for (const item of items) {
            if (infoOf(item)) entries.set(tokenOf(item), infoOf(item));
            else entries.delete(tokenOf(item));
        }
    }
    if (entries.size > localList.maxLength) return 'Failed';
    localList.entries = entries;
    localList.version = entries.size || updateType === 'Differential' ? version : 0;
    return 'Accepted';
}

function handle(method, handler) {
    client.handle(method, async ({ params }) => {
        const result = await handler(params);
        inbound[method] = (inbound[method] ?? 0) + 1;
        exchanges += 1;
        emit({ dir: 'in', action: method, request: params, response: result });
        return result;
    });
}

if (v16) {
    handle('GetConfiguration', ({ key }) => {
        const wanted = key?.length ? key : [...configuration.keys()];
        const configurationKey = wanted.filter((k) => configuration.has(k)).map((k) => ({
            key: k, readonly: configuration.get(k).readonly, value: configuration.get(k).value,
        }));
        const unknownKey = wanted.filter((k) => !configuration.has(k));
        return unknownKey.length ? { configurationKey, unknownKey } : { configurationKey };
    });
    handle('ChangeConfiguration', ({ key, value }) => {
        const entry = configuration.get(key);
        if (!entry) return { status: 'NotSupported' };
        if (entry.readonly) return { status: 'Rejected' };
        entry.value = value;
        return { status: 'Accepted' };
    });
    handle('SendLocalList', ({ listVersion, updateType, localAuthorizationList = [] }) => ({
        status: applyLocalList(listVersion, updateType, localAuthorizationList, (i) => i.idTag, (i) => i.idTagInfo),
    }));
    handle('GetLocalListVersion', () => ({ listVersion: localList.version }));
} else {
    const nameOf = (item) => `${item.component.name}.${item.variable.name}`;
    const located = (item) => {
        if (item.attributeType && item.attributeType !== 'Actual') return 'NotSupportedAttributeType';
        if (variables.has(nameOf(item))) return null;
        const components = new Set([...variables.keys()].map((name) => name.split('.')[0]));
        return components.has(item.component.name) ? 'UnknownVariable' : 'UnknownComponent';
    };
    handle('GetVariables', ({ getVariableData }) => ({
        getVariableResult: getVariableData.map((item) => {
            const status = located(item);
            const base = { component: item.component, variable: item.variable };
            if (status) return { attributeStatus: status, ...base };
            return { attributeStatus: 'Accepted', attributeType: 'Actual', attributeValue: variables.get(nameOf(item)).value, ...base };
        }),
    }));
    handle('SetVariables', ({ setVariableData }) => ({
        setVariableResult: setVariableData.map((item) => {
            const base = { component: item.component, variable: item.variable };
            const status = located(item);
            if (status) return { attributeStatus: status, ...base };
            const entry = variables.get(nameOf(item));
            if (entry.readonly) return { attributeStatus: 'Rejected', ...base };
            entry.value = item.attributeValue;
            return { attributeStatus: 'Accepted', ...base };
        }),
    }));
    handle('SendLocalList', ({ versionNumber, updateType, localAuthorizationList = [] }) => ({
        status: applyLocalList(versionNumber, updateType, localAuthorizationList, (i) => i.idToken.idToken, (i) => i.idTokenInfo),
    }));
    handle('GetLocalListVersion', () => ({ versionNumber: localList.version }));
}
handle('TriggerMessage', () => ({ status: 'Rejected' }));
handle('ClearCache', () => ({ status: 'Accepted' }));

// --- what the charger sends ----------------------------------------------------------------------------

async function send(action, request) {
    const response = await client.call(action, request);
    exchanges += 1;
    emit({ dir: 'out', action, request, response });
    return response;
}

async function boot(request) {
    for (let attempt = 0; attempt < 20; attempt += 1) {
        const response = await send('BootNotification', request);
        if (response.status === 'Accepted') return response;
        // Pending / Rejected: wait the interval (capped, this is a test) and try again (1.6 §4.2, 2.0.1 B02/B03).
        await sleep(Math.min(Math.max(response.interval, 1), 2) * 1000);
    }
    throw new Error('BootNotification never Accepted');
}

const now = () => new Date().toISOString();
const samples = Number(args.samples);
const intervalMs = Number(args['interval-ms']);
const summary = { version: args.version, id: args.id, idTag: args['id-tag'], statuses };

async function session16() {
    await boot({ chargePointVendor: 'chargeops-tests', chargePointModel: 'ocpp-rpc-strict', firmwareVersion: '1.0.0' });
    const status = async (s) => {
        statuses.push(s);
        await send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s, timestamp: now() });
    };
    await status('Available');
    const authorized = await send('Authorize', { idTag: args['id-tag'] });
    summary.authorizeStatus = authorized.idTagInfo.status;
    if (summary.authorizeStatus !== 'Accepted') return;
    await status('Preparing');
    let register = 1_000;
    const started = await send('StartTransaction', { connectorId: 1, idTag: args['id-tag'], meterStart: register, timestamp: now() });
    summary.transactionId = started.transactionId;
    summary.startStatus = started.idTagInfo.status;
    summary.meterStart = register;
    await status('Charging');
    for (let i = 0; i < samples; i += 1) {
        await sleep(intervalMs);
        register += 250;
        await send('MeterValues', {
            connectorId: 1,
            transactionId: started.transactionId,
            meterValue: [{ timestamp: now(), sampledValue: [
                { value: String(register), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            ] }],
        });
    }
    const stopped = await send('StopTransaction', {
        transactionId: started.transactionId, idTag: args['id-tag'], meterStop: register, timestamp: now(), reason: 'Local',
    });
    summary.meterStop = register;
    summary.stopStatus = stopped.idTagInfo?.status ?? null;
    await status('Finishing');
    await status('Available');
}

async function session201() {
    await boot({ reason: 'PowerUp', chargingStation: { model: 'ocpp-rpc-strict', vendorName: 'chargeops-tests', firmwareVersion: '1.0.0' } });
    const status = async (s) => {
        statuses.push(s);
        await send('StatusNotification', { timestamp: now(), connectorStatus: s, evseId: 1, connectorId: 1 });
    };
    await status('Available');
    const idToken = { idToken: args['id-tag'], type: 'ISO14443' };
    const authorized = await send('Authorize', { idToken });
    summary.authorizeStatus = authorized.idTokenInfo.status;
    if (summary.authorizeStatus !== 'Accepted') return;
    const transactionId = randomUUID();
    summary.transactionId = transactionId;
    let seqNo = 0;
    let register = 1_000;
    const event = (eventType, triggerReason, extra) => send('TransactionEvent', {
        eventType, timestamp: now(), triggerReason, seqNo: seqNo++, ...extra,
    });
    const meter = (context) => [{ timestamp: now(), sampledValue: [
        { value: register, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
    ] }];
    const started = await event('Started', 'Authorized', {
        transactionInfo: { transactionId, chargingState: 'Charging' },
        idToken, evse: { id: 1, connectorId: 1 }, meterValue: meter('Transaction.Begin'),
    });
    summary.startStatus = started.idTokenInfo?.status ?? null;
    summary.meterStart = register;
    await status('Occupied');
    for (let i = 0; i < samples; i += 1) {
        await sleep(intervalMs);
        register += 250;
        await event('Updated', 'MeterValuePeriodic', {
            transactionInfo: { transactionId, chargingState: 'Charging' }, meterValue: meter('Sample.Periodic'),
        });
    }
    const ended = await event('Ended', 'StopAuthorized', {
        transactionInfo: { transactionId, chargingState: 'Idle', stoppedReason: 'Local' },
        idToken, meterValue: meter('Transaction.End'),
    });
    summary.meterStop = register;
    summary.stopStatus = ended.idTokenInfo?.status ?? null;
    summary.seqNos = seqNo;
    await status('Available');
}

let code = 0;
try {
    await client.connect();
    emit({ connected: args.url, protocol: client.protocol });
    await (v16 ? session16() : session201());
    await send('Heartbeat', {});
    await sleep(Number(args['linger-ms']));  // keep answering the gateway's convergence calls a moment longer
} catch (error) {
    fail('crash', { error: String(error?.stack ?? error) });
    code = 3;
} finally {
    await client.close({ code: 1000, reason: 'done' }).catch(() => {});
}
summary.exchanges = exchanges;
summary.inbound = inbound;
summary.localListVersion = localList.version;
summary.failures = failures;
if (code === 0 && failures.length) code = 1;
if (code === 0 && summary.authorizeStatus !== args.expect) code = 2;
summary.exitCode = code;
console.log(JSON.stringify({ summary }));
process.exit(code);
