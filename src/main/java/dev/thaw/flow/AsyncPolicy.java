package dev.thaw.flow;

/**
 * What the critical path does with work that its caller does not wait for: FOLLOWS_FROM children
 * and children that end after their parent.
 */
public enum AsyncPolicy {
    /**
     * The trace ends when its last span ends. Asynchronous work that outlives its caller may lie on
     * the critical path: the path then runs through the async child to the trace's end. A
     * FOLLOWS_FROM child that ends within its parent is not waited for and is never on the path.
     */
    FOLLOW,
    /**
     * Jaeger UI's rule: the trace ends when the root ends. FOLLOWS_FROM subtrees are ignored, and
     * every child is clipped to its parent's time window (dropped if entirely outside).
     */
    CLIP
}
