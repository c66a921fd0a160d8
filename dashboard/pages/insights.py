"""Insights: quality before vs after, size reduction, images per day by mode and status, processing time."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import processing_time_by_day, reduction_histogram

st.title("Insights")
state.service()

days = st.columns(4)[0].selectbox("Period", [7, 30, 90, 365, 0], index=1,
                    format_func=lambda d: f"Last {d} days" if d else "All time")
daily, sample = state.insights_data(days)
if not daily and not sample:
    st.info("No images yet. Charts appear after the first uploads.")
    st.stop()

per_day = pd.DataFrame(daily, columns=["day", "mode", "status", "images"])
per_day["mode"] = per_day["mode"].fillna("–")
m = pd.DataFrame(sample)

k = st.columns(4)
k[0].metric("Images (period)", f"{int(per_day['images'].sum()):,}")
if not m.empty:
    k[1].metric("Mean quality gain", f"{(m['quality_after'] - m['quality_before']).mean():+.1f}")
    k[2].metric("Median size reduction", f"{m['size_reduction_percent'].median():.1f}%")
    k[3].metric("Median processing time", f"{m['processing_time_ms'].median():,.0f} ms")

a, b = st.columns(2)
with a:
    st.markdown("**Images per day by mode**")
    st.bar_chart(per_day.pivot_table(index="day", columns="mode", values="images", aggfunc="sum",
                                     fill_value=0))
with b:
    st.markdown("**Images per day by status**")
    st.bar_chart(per_day.pivot_table(index="day", columns="status", values="images", aggfunc="sum",
                                     fill_value=0))

if m.empty:
    st.info("No completed enhancements yet.")
    st.stop()

c, d = st.columns(2)
with c:
    st.markdown("**Quality before vs after** (latest 5 000)")
    st.scatter_chart(m, x="quality_before", y="quality_after", color="mode")
with d:
    st.markdown("**Size reduction distribution** (%)")
    st.bar_chart(reduction_histogram(m["size_reduction_percent"]), x="reduction %", y="images", sort=False)

kind, times = processing_time_by_day(m)
if kind == "bar":
    st.markdown("**Processing time** (median ms by mode; one day of data so far)")
    st.bar_chart(times, x="mode", y="median ms")
else:
    st.markdown("**Processing time** (median ms, by day and mode)")
    st.line_chart(times)
