// Sends a SOL transfer with @solana/web3.js against a running soltest simulator and confirms it.
// Usage: RPC_URL=http://127.0.0.1:PORT WS_URL=ws://127.0.0.1:PORT node transfer.mjs
import {
  Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction, sendAndConfirmTransaction,
} from '@solana/web3.js';

const rpcURL = process.env.RPC_URL;
const wsURL = process.env.WS_URL;
if (!rpcURL || !wsURL) {
  console.error('RPC_URL and WS_URL must be set');
  process.exit(2);
}

function check(cond, msg) {
  if (!cond) {
    console.error('FAIL: ' + msg);
    process.exit(1);
  }
}

const conn = new Connection(rpcURL, { commitment: 'confirmed', wsEndpoint: wsURL });
const payer = Keypair.generate();
const dest = Keypair.generate().publicKey;

const version = await conn.getVersion();
check(typeof version['solana-core'] === 'string', 'getVersion');

const airdropSig = await conn.requestAirdrop(payer.publicKey, 2 * LAMPORTS_PER_SOL);
const bh = await conn.getLatestBlockhash();
await conn.confirmTransaction({ signature: airdropSig, ...bh }, 'confirmed');
check(await conn.getBalance(payer.publicKey) === 2 * LAMPORTS_PER_SOL, 'airdrop balance');

const tx = new Transaction().add(SystemProgram.transfer({
  fromPubkey: payer.publicKey, toPubkey: dest, lamports: 1_234_567_890,
}));
const sig = await sendAndConfirmTransaction(conn, tx, [payer], { commitment: 'confirmed' });

check(await conn.getBalance(dest) === 1_234_567_890, 'recipient balance');
check(await conn.getBalance(payer.publicKey) === 2 * LAMPORTS_PER_SOL - 1_234_567_890 - 5000, 'payer balance after fee');

const parsed = await conn.getParsedTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
const ix = parsed.transaction.message.instructions[0];
check(ix.program === 'system' && ix.parsed.type === 'transfer' && ix.parsed.info.lamports === 1_234_567_890, 'parsed transfer');
check(parsed.meta.fee === 5000 && parsed.meta.err === null, 'meta');

const history = await conn.getSignaturesForAddress(dest);
check(history.length === 1 && history[0].signature === sig, 'getSignaturesForAddress');

console.log('web3.js transfer confirmed: ' + sig);
process.exit(0);
