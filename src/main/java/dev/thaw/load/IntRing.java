package dev.thaw.load;

/**
 * A growable FIFO of ints, used by one thread: the {@link LoadRunner}'s backlog of invocations
 * waiting for a connection, kept as ints so that waiting costs no boxing.
 */
final class IntRing {
    private int[] items = new int[1024];
    private int head;
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    void add(int v) {
        if (size == items.length) {
            int[] grown = new int[items.length * 2];
            for (int k = 0; k < size; k++) {
                grown[k] = items[(head + k) % items.length];
            }
            items = grown;
            head = 0;
        }
        items[(head + size) % items.length] = v;
        size++;
    }

    int poll() {
        int v = items[head];
        head = (head + 1) % items.length;
        size--;
        return v;
    }
}
