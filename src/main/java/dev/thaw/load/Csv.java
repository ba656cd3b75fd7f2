package dev.thaw.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The trace CSV files: a header row, then plain comma-separated rows (the Azure traces quote
 * nothing). Columns are found by header name, so column order does not matter.
 */
final class Csv {
    final Path file;
    final String[] header;
    final List<String[]> rows;
    private final Map<String, Integer> columns = new HashMap<>();

    private Csv(Path file, String[] header, List<String[]> rows) {
        this.file = file;
        this.header = header;
        this.rows = rows;
        for (int i = 0; i < header.length; i++) {
            columns.putIfAbsent(header[i], i);
        }
    }

    static Csv read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new WorkloadException(file + ": no such file");
        } catch (IOException e) {
            throw new WorkloadException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (lines.isEmpty()) {
            throw new WorkloadException(file + ": empty file (expected a header row)");
        }
        String first = lines.get(0);
        if (first.startsWith("\uFEFF")) {
            first = first.substring(1);
        }
        String[] header = split(first);
        List<String[]> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String[] row = split(line);
            if (row.length != header.length) {
                throw new WorkloadException(file + ": line " + (i + 1) + " has " + row.length
                        + " fields, the header has " + header.length);
            }
            rows.add(row);
        }
        return new Csv(file, header, rows);
    }

    private static String[] split(String line) {
        String[] parts = line.split(",", -1);
        for (int i = 0; i < parts.length; i++) {
            parts[i] = parts[i].trim();
        }
        return parts;
    }

    boolean has(String name) {
        return columns.containsKey(name);
    }

    int column(String name) {
        Integer c = columns.get(name);
        if (c == null) {
            throw new WorkloadException(file + ": no column '" + name + "' in the header");
        }
        return c;
    }

    double number(String[] row, int column, int rowIndex) {
        try {
            return Double.parseDouble(row[column]);
        } catch (NumberFormatException e) {
            throw new WorkloadException(file + ": row " + (rowIndex + 2) + ", column '" + header[column]
                    + "': '" + row[column] + "' is not a number");
        }
    }
}
