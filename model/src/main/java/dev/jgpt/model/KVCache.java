package dev.jgpt.model;

/** Keys and values of every layer for positions 0..capacity−1, each layer [capacity × C]. */
final class KVCache {
    final float[][] k, v;
    final int capacity;

    KVCache(int layers, int capacity, int C) {
        this.capacity = capacity;
        k = new float[layers][(int) Math.min(Integer.MAX_VALUE - 16, (long) capacity * C)];
        v = new float[layers][(int) Math.min(Integer.MAX_VALUE - 16, (long) capacity * C)];
    }
}
