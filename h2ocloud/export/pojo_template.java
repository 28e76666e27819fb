// h2ocloud deep-learning model ${MODEL_ID} as a plain Java class (POJO), written by h2ocloud.
// It needs nothing beyond the JDK:
//
//   javac ${CLASS}.java && java -cp . ${CLASS} < rows.csv > predictions.csv
//
// main() reads CSV rows with a header line on standard input (columns matched by name, any
// order, extra columns ignored; an empty field or NA is a missing value) and writes the
// columns the cloud's predict() makes as CSV on standard output. From code:
//
//   ${CLASS} m = new ${CLASS}();
//   double[] preds = m.score0(row, new double[m.nPredictions()]);
//
// where row[i] is column NAMES[i]: a number, or for a factor the index of its level in
// DOMAINS[i], NaN when missing (an unseen level is missing too).
//
// Model: ${CATEGORY}, layers ${LAYERS} (${ACTIVATION}).
// Columns: ${COLUMNS_COMMENT}
//
// The model's numbers (weights, biases, standardization, domains) are kept as base64 text in
// string constants and decoded once when the class loads: a class file holds at most 65535
// constants and a method at most 64 KB of code, so a large network cannot be written as
// array initializers, while a string constant holds 65535 bytes and costs one entry.

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public class ${CLASS} {
  public static final String MODEL_ID = "${MODEL_ID_ESCAPED}";
  /** Binomial, Multinomial, Regression or AutoEncoder. */
  public static final String CATEGORY = "${CATEGORY}";

  static final int ENUM = 0, NUMERIC = 1;
  static final int TANH = 0, RECTIFIER = 1, MAXOUT = 2, LINEAR = 3, SOFTMAX = 4;

  /** The predictor columns score0 reads, in training order. */
  public static final String[] NAMES;
  /** Each column's levels (null for a numeric column). */
  public static final String[][] DOMAINS;
  /** The response column (null for an autoencoder) and its classes (null for regression). */
  public static final String RESPONSE;
  public static final String[] RESPONSE_DOMAIN;
  /** The columns predict() makes; main() writes them, score0 fills preds in this order
   *  (for a classifier preds[0] is the index of the label in RESPONSE_DOMAIN). */
  public static final String[] PREDICTION_COLUMNS;

  static final int[] COL_KIND, COL_OFFSET, COL_FIRST_LEVEL;
  static final double[] COL_MEAN, COL_SIGMA;
  static final int N_INPUTS;
  static final int[] LAYER_IN, LAYER_OUT, LAYER_ACT;
  static final double[] LAYER_SCALE;
  static final float[][] W, B;  // W[l][j * LAYER_IN[l] + i]: unit j's weight of input i
  static final double THRESHOLD, RESPONSE_MEAN, RESPONSE_SIGMA;
  static final boolean LOG_LINK;  // regression with a log link (poisson, gamma, tweedie)
  static final double[] CLASS_RATIO;  // balance_classes: prior / model class distribution
  static final double[] REC_SCALE, REC_OFFSET;  // autoencoder: reconstruction's units

  static {
    ByteBuffer in = ByteBuffer.wrap(Base64.getDecoder().decode(Data.text()));
    if (in.getInt() != 0x48324F44) throw new IllegalStateException("corrupt model data");
    int ncols = in.getInt();
    NAMES = new String[ncols];
    DOMAINS = new String[ncols][];
    COL_KIND = new int[ncols];
    COL_OFFSET = new int[ncols];
    COL_FIRST_LEVEL = new int[ncols];
    COL_MEAN = new double[ncols];
    COL_SIGMA = new double[ncols];
    for (int c = 0; c < ncols; c++) {
      NAMES[c] = str(in);
      COL_KIND[c] = in.getInt();
      COL_OFFSET[c] = in.getInt();
      COL_FIRST_LEVEL[c] = in.getInt();
      COL_MEAN[c] = in.getDouble();
      COL_SIGMA[c] = in.getDouble();
      DOMAINS[c] = COL_KIND[c] == ENUM ? strs(in) : null;
    }
    N_INPUTS = in.getInt();
    int nl = in.getInt();
    LAYER_IN = new int[nl];
    LAYER_OUT = new int[nl];
    LAYER_ACT = new int[nl];
    LAYER_SCALE = new double[nl];
    W = new float[nl][];
    B = new float[nl][];
    for (int l = 0; l < nl; l++) {
      LAYER_IN[l] = in.getInt();
      LAYER_OUT[l] = in.getInt();
      LAYER_ACT[l] = in.getInt();
      LAYER_SCALE[l] = in.getDouble();
      W[l] = new float[LAYER_IN[l] * LAYER_OUT[l]];
      B[l] = new float[LAYER_OUT[l]];
      in.asFloatBuffer().get(W[l]);
      in.position(in.position() + 4 * W[l].length);
      in.asFloatBuffer().get(B[l]);
      in.position(in.position() + 4 * B[l].length);
    }
    String response = str(in);
    RESPONSE = response.isEmpty() && CATEGORY.equals("AutoEncoder") ? null : response;
    String[] dom = strs(in);
    RESPONSE_DOMAIN = dom.length == 0 ? null : dom;
    THRESHOLD = in.getDouble();
    CLASS_RATIO = doubles(in);
    RESPONSE_MEAN = in.getDouble();
    RESPONSE_SIGMA = in.getDouble();
    LOG_LINK = in.getInt() == 1;
    REC_SCALE = doubles(in);
    REC_OFFSET = doubles(in);
    PREDICTION_COLUMNS = strs(in);
  }

  private static String str(ByteBuffer in) {
    byte[] b = new byte[in.getInt()];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static String[] strs(ByteBuffer in) {
    String[] s = new String[in.getInt()];
    for (int i = 0; i < s.length; i++) s[i] = str(in);
    return s;
  }

  private static double[] doubles(ByteBuffer in) {
    int n = in.getInt();
    if (n < 0) return null;
    double[] d = new double[n];
    for (int i = 0; i < n; i++) d[i] = in.getDouble();
    return d;
  }

  /** How many values score0 writes into preds. */
  public int nPredictions() {
    return PREDICTION_COLUMNS.length;
  }

  /** The model's input units of one row, as the cloud's DataInfo makes them: one-hot factors
   *  (missing or unseen: no unit), standardized numbers (missing: 0, the training mean). */
  public static double[] inputs(double[] row) {
    double[] x = new double[N_INPUTS];
    for (int c = 0; c < NAMES.length; c++) {
      double v = row[c];
      if (COL_KIND[c] == ENUM) {
        if (Double.isNaN(v)) continue;
        int level = (int) v;
        if (level >= COL_FIRST_LEVEL[c] && level < DOMAINS[c].length)
          x[COL_OFFSET[c] + level - COL_FIRST_LEVEL[c]] = 1.0;
      } else {
        double z = (v - COL_MEAN[c]) / COL_SIGMA[c];
        x[COL_OFFSET[c]] = Double.isNaN(z) ? 0.0 : (double) (float) z;  // the cloud feeds float32
      }
    }
    return x;
  }

  /** The network's outputs for input units x (no dropout; hidden units scaled by 1 - ratio). */
  public static double[] forward(double[] x) {
    double[] a = x;
    for (int l = 0; l < LAYER_IN.length; l++) {
      int nin = LAYER_IN[l], nout = LAYER_OUT[l], act = LAYER_ACT[l];
      float[] w = W[l];
      float[] b = B[l];
      double scale = LAYER_SCALE[l];
      double[] o = new double[nout];
      if (act == MAXOUT) {
        // max over the active (non-zero) inputs of w_ji x_i, 0 when none is active; then the
        // layer is divided by its largest unit when that exceeds 1.
        double big = 0.0;
        for (int j = 0; j < nout; j++) {
          double best = 0.0;
          boolean any = false;
          int row = j * nin;
          for (int i = 0; i < nin; i++) {
            if (a[i] == 0.0) continue;
            double p = w[row + i] * a[i];
            if (!any || p > best) { best = p; any = true; }
          }
          o[j] = best + b[j];
          if (o[j] > big) big = o[j];
        }
        double norm = big > 1.0 ? big : 1.0;
        for (int j = 0; j < nout; j++) o[j] = o[j] / norm * scale;
      } else {
        for (int j = 0; j < nout; j++) {
          double s = 0.0;
          int row = j * nin;
          for (int i = 0; i < nin; i++) s += w[row + i] * a[i];
          o[j] = s + b[j];
        }
        if (act == TANH) {
          for (int j = 0; j < nout; j++) o[j] = Math.tanh(o[j]) * scale;
        } else if (act == RECTIFIER) {
          for (int j = 0; j < nout; j++) o[j] = o[j] > 0.0 ? o[j] * scale : 0.0;
        } else if (act == SOFTMAX) {
          double mx = o[0], tot = 0.0;
          for (int j = 1; j < nout; j++) if (o[j] > mx) mx = o[j];
          for (int j = 0; j < nout; j++) { o[j] = Math.exp(o[j] - mx); tot += o[j]; }
          for (int j = 0; j < nout; j++) o[j] /= tot;
        }
      }
      a = o;
    }
    return a;
  }

  /** Score one row (see NAMES and DOMAINS) into preds, laid out as PREDICTION_COLUMNS. */
  public double[] score0(double[] row, double[] preds) {
    if (row.length < NAMES.length)
      throw new IllegalArgumentException("row has " + row.length + " values, the model reads " + NAMES.length);
    double[] out = forward(inputs(row));
    if (CATEGORY.equals("AutoEncoder")) {
      for (int i = 0; i < out.length; i++) preds[i] = out[i] * REC_SCALE[i] + REC_OFFSET[i];
    } else if (CATEGORY.equals("Regression")) {
      double f = out[0] * RESPONSE_SIGMA + RESPONSE_MEAN;
      preds[0] = LOG_LINK ? Math.exp(Math.min(f, 700.0)) : f;
    } else {
      double[] p = out;
      if (CLASS_RATIO != null) {  // undo balance_classes' resampling
        double tot = 0.0;
        for (int k = 0; k < p.length; k++) { p[k] *= CLASS_RATIO[k]; tot += p[k]; }
        tot = Math.max(tot, 1e-300);
        for (int k = 0; k < p.length; k++) p[k] /= tot;
      }
      int label = 0;
      if (CATEGORY.equals("Binomial")) {
        label = p[1] >= THRESHOLD ? 1 : 0;
      } else {
        for (int k = 1; k < p.length; k++) if (p[k] > p[label]) label = k;
      }
      preds[0] = label;
      System.arraycopy(p, 0, preds, 1, p.length);
    }
    return preds;
  }

  // ---- CSV in, CSV out ---------------------------------------------------------------------

  private static final Map<String, Integer>[] LEVEL_INDEX = levelIndex();

  @SuppressWarnings("unchecked")
  private static Map<String, Integer>[] levelIndex() {
    Map<String, Integer>[] idx = new Map[NAMES.length];
    for (int c = 0; c < NAMES.length; c++) {
      if (DOMAINS[c] == null) continue;
      idx[c] = new HashMap<>();
      for (int k = 0; k < DOMAINS[c].length; k++) idx[c].put(DOMAINS[c][k], k);
    }
    return idx;
  }

  /** One CSV field as score0 reads it: a number, a factor's level index, or NaN. */
  public static double parseField(int column, String field) {
    if (field == null || field.isEmpty() || field.equals("NA")) return Double.NaN;
    if (DOMAINS[column] != null) {
      Integer k = LEVEL_INDEX[column].get(field);
      return k == null ? Double.NaN : k;  // an unseen level is missing
    }
    try {
      return Double.parseDouble(field.trim());
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  /** The fields of one CSV record (RFC 4180 quoting; a quoted field may span lines). */
  static List<String> readRecord(BufferedReader r) throws IOException {
    String line = r.readLine();
    if (line == null) return null;
    List<String> fields = new ArrayList<>();
    StringBuilder f = new StringBuilder();
    boolean quoted = false;
    int i = 0;
    while (true) {
      if (i >= line.length()) {
        if (!quoted) break;
        String next = r.readLine();
        if (next == null) break;
        f.append('\n');
        line = next;
        i = 0;
        continue;
      }
      char ch = line.charAt(i++);
      if (quoted) {
        if (ch == '"') {
          if (i < line.length() && line.charAt(i) == '"') { f.append('"'); i++; }
          else quoted = false;
        } else f.append(ch);
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        fields.add(f.toString());
        f.setLength(0);
      } else if (ch != '\r' || i < line.length()) {
        f.append(ch);
      }
    }
    fields.add(f.toString());
    return fields;
  }

  static String quote(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
    return "\"" + s.replace("\"", "\"\"") + "\"";
  }

  public static void main(String[] args) throws IOException {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
    Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    List<String> header = readRecord(r);
    if (header == null) { out.flush(); return; }
    int[] source = new int[NAMES.length];  // the CSV field holding each model column, -1: none
    for (int c = 0; c < NAMES.length; c++) source[c] = header.indexOf(NAMES[c]);
    for (int c = 0; c < NAMES.length; c++)
      if (source[c] < 0) System.err.println("warning: no column " + NAMES[c] + " in the input: read as missing");
    for (int k = 0; k < PREDICTION_COLUMNS.length; k++)
      out.write((k > 0 ? "," : "") + quote(PREDICTION_COLUMNS[k]));
    out.write('\n');
    ${CLASS} model = new ${CLASS}();
    double[] row = new double[NAMES.length];
    double[] preds = new double[model.nPredictions()];
    boolean classifier = RESPONSE_DOMAIN != null;
    StringBuilder line = new StringBuilder();
    List<String> rec;
    while ((rec = readRecord(r)) != null) {
      if (rec.size() == 1 && rec.get(0).isEmpty()) continue;  // a blank line
      for (int c = 0; c < NAMES.length; c++)
        row[c] = parseField(c, source[c] >= 0 && source[c] < rec.size() ? rec.get(source[c]) : null);
      model.score0(row, preds);
      line.setLength(0);
      for (int k = 0; k < preds.length; k++) {
        if (k > 0) line.append(',');
        if (k == 0 && classifier) line.append(quote(RESPONSE_DOMAIN[(int) preds[0]]));
        else line.append(preds[k]);
      }
      line.append('\n');
      out.write(line.toString());
    }
    out.flush();
  }

  /** The model's numbers as base64 text, in pieces of at most ${PIECE} characters. */
  static final class Data {
    private static final String[] PIECES = {
${PIECES}
    };

    static String text() {
      StringBuilder s = new StringBuilder(${TEXT_LENGTH});
      for (String p : PIECES) s.append(p);
      return s.toString();
    }
  }
}
