package dev.thaw.flow;

/** The renderings of a {@link FlowReport}. */
public enum OutputFormat {
    TEXT, JSON, DOT, HTML;

    /**
     * @param top    rows of each ranking in text and HTML
     * @param traces slowest traces shown with their critical paths in text and HTML
     */
    public String render(FlowReport report, int top, int traces) {
        return switch (this) {
            case TEXT -> TextReport.render(report, top, traces);
            case JSON -> JsonReport.render(report);
            case DOT -> DotReport.render(report);
            case HTML -> HtmlReport.render(report, top, traces);
        };
    }
}
