"""The scenario report: self-contained HTML with embedded plots, plus PNG copies."""

from sim.report.html import ReportData, RunSeries, write_report

__all__ = ["ReportData", "RunSeries", "write_report"]
