package dev.jgpt.spark;

import java.io.Serializable;
import java.util.TreeMap;

/**
 * The sum of one vector (and a few statistics) per worker, combined only along a fixed binary tree over the
 * worker indices: worker ranges [lo, mid) and [mid, hi) are added when both are complete, whatever order Spark
 * delivers partial results in. Float addition is not associative, so this is what makes the sum, and the
 * run, bit-identical from one execution to the next (and after a retried task).
 *
 * <p>Used as the accumulator of {@code treeAggregate}: start from {@link #empty}, {@link #add} leaves,
 * {@link #merge} partial sums. Holds at most a few pending subtrees at a time for in-order arrivals.
 */
final class TreeSum implements Serializable {
    private record Node(int lo, int hi, float[] values, double[] stats) implements Serializable {
    }

    private final int workers;
    private final TreeMap<Integer, Node> complete = new TreeMap<>(); // disjoint subtrees by their first worker

    private TreeSum(int workers) {
        this.workers = workers;
    }

    static TreeSum empty(int workers) {
        return new TreeSum(workers);
    }

    /** Worker {@code w}'s vector and statistics (both kept as they are, not copied). */
    static TreeSum leaf(int workers, int w, float[] values, double[] stats) {
        TreeSum t = new TreeSum(workers);
        t.complete.put(w, new Node(w, w + 1, values, stats));
        return t;
    }

    TreeSum add(TreeSum leafOrPartial) {
        return merge(leafOrPartial);
    }

    TreeSum merge(TreeSum other) {
        if (other.workers != workers) {
            throw new IllegalArgumentException("tree sums over " + workers + " and " + other.workers + " workers");
        }
        for (Node n : other.complete.values()) {
            insert(n);
        }
        return this;
    }

    private void insert(Node n) {
        while (true) {
            if (complete.containsKey(n.lo)) {
                throw new IllegalStateException("worker range [" + n.lo + ", " + n.hi + ") arrived twice");
            }
            if (n.lo == 0 && n.hi == workers) {
                complete.put(n.lo, n);
                return;
            }
            int[] parent = parentOf(n.lo, n.hi);
            int mid = (parent[0] + parent[1]) >>> 1;
            boolean isLeft = n.lo == parent[0];
            Node sibling = complete.get(isLeft ? mid : parent[0]);
            if (sibling == null || sibling.hi != (isLeft ? parent[1] : mid)) {
                complete.put(n.lo, n);   // its sibling subtree is not complete yet
                return;
            }
            complete.remove(sibling.lo);
            Node left = n.lo < sibling.lo ? n : sibling, right = n.lo < sibling.lo ? sibling : n;
            n = new Node(parent[0], parent[1], sum(left.values, right.values), sum(left.stats, right.stats));
        }
    }

    /** The range whose halves (split at the midpoint) include [lo, hi). */
    private int[] parentOf(int lo, int hi) {
        int a = 0, b = workers;
        while (true) {
            int mid = (a + b) >>> 1;
            if ((a == lo && mid == hi) || (mid == lo && b == hi)) {
                return new int[] {a, b};
            }
            if (hi <= mid) {
                b = mid;
            } else if (lo >= mid) {
                a = mid;
            } else {
                throw new IllegalStateException("[" + lo + ", " + hi + ") is not a subtree of [0, " + workers + ")");
            }
        }
    }

    /** Adds into a fresh array: a leaf's own arrays may be cached by Spark and must stay as they are. */
    private static float[] sum(float[] a, float[] b) {
        float[] s = new float[a.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }

    private static double[] sum(double[] a, double[] b) {
        double[] s = new double[a.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }

    private Node root() {
        Node r = complete.get(0);
        if (r == null || r.hi != workers || complete.size() != 1) {
            throw new IllegalStateException("the sum over " + workers + " workers is incomplete: " + complete.keySet());
        }
        return r;
    }

    /** The sum of every worker's vector. */
    float[] values() {
        return root().values;
    }

    /** The sum of every worker's statistics. */
    double[] stats() {
        return root().stats;
    }
}
