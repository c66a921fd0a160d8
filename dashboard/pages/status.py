"""System status: reachability checks, counts, and the configuration with secrets masked."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, state
from enhancer.app import run_checks

auth.require_page("admin")
st.title("System status")
cfg = state.settings()
svc = state.service()

if st.button("Re-run checks"):
    st.rerun()

with st.spinner("Checking database, storage and AI providers…"):
    checks = run_checks(cfg, svc)
ok = all(c.ok for c in checks)
(st.success if ok else st.error)("All checks passed." if ok else "Some checks failed; see below.")
table = [{"check": c.name, "ok": "✓" if c.ok else "✗", "detail": c.detail} for c in checks]
st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
names = {c.name for c in checks}
if not any("ai" in n or "gemini" in n or "bedrock" in n for n in names):
    ai = cfg.ai_provider
    st.caption(f"AI provider: {ai} · Gemini key {'set' if cfg.gemini_api_key else 'not set'}"
               + (f" · Bedrock model {cfg.bedrock_model_id}" if ai == "bedrock" else ""))

if cfg.broker_url:
    from enhancer import broker
    from enhancer.batch.workers import live_workers

    st.subheader("Workers")
    depth = broker.queue_depth(cfg)
    st.metric(f"Queue {cfg.broker_queue}: messages waiting", "?" if depth is None else f"{depth:,}")
    workers = live_workers(svc)
    if workers:
        cols = ("name", "host", "concurrency", "tasks_done", "last_seen_at")
        st.dataframe(pd.DataFrame([{k: w[k] for k in cols} for w in workers]), hide_index=True, width="stretch")
    else:
        st.warning("No worker is running: queued batches wait. Start one with "
                   "`celery -A enhancer.worker worker --concurrency 2 -n w1@%h`.")
else:
    st.caption("Batches run in a process of their own on this machine "
               "(set BROKER_URL to run them on workers).")

st.subheader("Counts")
counts = state.counts()
cols = st.columns(len(counts))
for col, (k, v) in zip(cols, counts.items()):
    col.metric(k.replace("_", " ").capitalize(), f"{v:,}")

st.subheader("Configuration")
st.caption("Secrets are masked. Set values in the environment, `.env` or `.streamlit/secrets.toml`.")
st.dataframe(pd.DataFrame(list(cfg.masked().items()), columns=["setting", "value"]), hide_index=True,
             width="stretch")

st.subheader("Sign-in")
st.caption("Whether `[auth]` is set up, never its values (client and cookie secrets stay in secrets.toml).")
st.dataframe(pd.DataFrame(auth.status_rows()), hide_index=True, width="stretch")
