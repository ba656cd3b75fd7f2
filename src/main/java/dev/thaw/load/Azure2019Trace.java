package dev.thaw.load;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Azure Functions 2019 trace format: {@code invocations.csv} (HashOwner, HashApp,
 * HashFunction, Trigger, then one count column per minute, headed by the minute's number),
 * {@code durations.csv} (per function: Average, Count, Minimum, Maximum and the percentiles
 * 0, 1, 25, 50, 75, 99, 100 of the average duration in ms) and {@code memory.csv} (per app:
 * SampleCount, AverageAllocatedMb and its percentiles 1, 5, 25, 50, 75, 95, 99, 100).
 */
record Azure2019Trace(List<Function> functions, String[] minuteLabels, int withoutDurations, int withoutMemory) {

    static final double[] DURATION_LEVELS = {0, 0.01, 0.25, 0.50, 0.75, 0.99, 1.0};
    static final String[] DURATION_COLUMNS = {"percentile_Average_0", "percentile_Average_1", "percentile_Average_25",
            "percentile_Average_50", "percentile_Average_75", "percentile_Average_99", "percentile_Average_100"};
    static final double[] MEMORY_LEVELS = {0.01, 0.05, 0.25, 0.50, 0.75, 0.95, 0.99, 1.0};
    static final String[] MEMORY_COLUMNS = {"AverageAllocatedMb_pct1", "AverageAllocatedMb_pct5", "AverageAllocatedMb_pct25",
            "AverageAllocatedMb_pct50", "AverageAllocatedMb_pct75", "AverageAllocatedMb_pct95", "AverageAllocatedMb_pct99",
            "AverageAllocatedMb_pct100"};

    /**
     * A function of the trace that has duration statistics.
     *
     * @param counts   invocations per minute, one per minute column of the file
     * @param duration percentiles of its duration (ms)
     * @param memory   percentiles of its app's allocated memory (MB), or null if memory.csv lacks the app
     */
    record Function(String owner, String app, String function, String trigger, int[] counts,
                    PercentileCurve duration, PercentileCurve memory) {
    }

    int minutes() {
        return minuteLabels.length;
    }

    static Azure2019Trace load(Path invocationsFile, Path durationsFile, Path memoryFile) {
        Csv inv = Csv.read(invocationsFile);
        Csv dur = Csv.read(durationsFile);
        Csv mem = memoryFile == null ? null : Csv.read(memoryFile);

        List<Integer> minuteColumns = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int c = 0; c < inv.header.length; c++) {
            if (inv.header[c].matches("\\d+")) {
                minuteColumns.add(c);
                labels.add(inv.header[c]);
            }
        }
        if (minuteColumns.isEmpty()) {
            throw new WorkloadException(invocationsFile + ": no per-minute columns (headers 1, 2, … 1440) in the header");
        }

        Map<String, PercentileCurve> durations = new HashMap<>();
        int dOwner = dur.column("HashOwner");
        int dApp = dur.column("HashApp");
        int dFunction = dur.column("HashFunction");
        int[] dCols = new int[DURATION_COLUMNS.length];
        for (int k = 0; k < dCols.length; k++) {
            dCols[k] = dur.column(DURATION_COLUMNS[k]);
        }
        for (int r = 0; r < dur.rows.size(); r++) {
            String[] row = dur.rows.get(r);
            double[] v = new double[dCols.length];
            for (int k = 0; k < v.length; k++) {
                v[k] = dur.number(row, dCols[k], r);
            }
            durations.put(row[dOwner] + "/" + row[dApp] + "/" + row[dFunction], new PercentileCurve(DURATION_LEVELS.clone(), v));
        }

        Map<String, PercentileCurve> memory = new HashMap<>();
        if (mem != null) {
            int mOwner = mem.column("HashOwner");
            int mApp = mem.column("HashApp");
            int[] mCols = new int[MEMORY_COLUMNS.length];
            for (int k = 0; k < mCols.length; k++) {
                mCols[k] = mem.column(MEMORY_COLUMNS[k]);
            }
            for (int r = 0; r < mem.rows.size(); r++) {
                String[] row = mem.rows.get(r);
                double[] v = new double[mCols.length];
                for (int k = 0; k < v.length; k++) {
                    v[k] = mem.number(row, mCols[k], r);
                }
                memory.put(row[mOwner] + "/" + row[mApp], new PercentileCurve(MEMORY_LEVELS.clone(), v));
            }
        }

        int iOwner = inv.column("HashOwner");
        int iApp = inv.column("HashApp");
        int iFunction = inv.column("HashFunction");
        int iTrigger = inv.has("Trigger") ? inv.column("Trigger") : -1;
        List<Function> functions = new ArrayList<>();
        int withoutDurations = 0;
        int withoutMemory = 0;
        for (int r = 0; r < inv.rows.size(); r++) {
            String[] row = inv.rows.get(r);
            int[] counts = new int[minuteColumns.size()];
            for (int m = 0; m < counts.length; m++) {
                double v = inv.number(row, minuteColumns.get(m), r);
                if (v < 0 || v != Math.rint(v)) {
                    throw new WorkloadException(invocationsFile + ": row " + (r + 2) + ", minute " + labels.get(m)
                            + ": '" + row[minuteColumns.get(m)] + "' is not a non-negative whole count");
                }
                counts[m] = (int) v;
            }
            PercentileCurve d = durations.get(row[iOwner] + "/" + row[iApp] + "/" + row[iFunction]);
            if (d == null) {
                withoutDurations++;
                continue;
            }
            PercentileCurve mm = memory.get(row[iOwner] + "/" + row[iApp]);
            if (mm == null) {
                withoutMemory++;
            }
            functions.add(new Function(row[iOwner], row[iApp], row[iFunction], iTrigger < 0 ? "" : row[iTrigger],
                    counts, d, mm));
        }
        return new Azure2019Trace(functions, labels.toArray(String[]::new), withoutDurations, withoutMemory);
    }
}
