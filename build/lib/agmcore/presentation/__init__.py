"""Layer 7, presentation: Plotly figures, exports, the Playground's settings model and the Home presets. Needs the app extra (plotly, kaleido); nothing below imports it."""
