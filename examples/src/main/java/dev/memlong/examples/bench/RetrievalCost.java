package dev.memlong.examples.bench;

import dev.memlong.runtime.memlong.Retrieval;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Retrieval cost per call, by phase, in milliseconds: query embedding (one sample per query text), exact top-k
 * search, K/V gather (fetch + decode to float32) and upload to the model (native copy and layout).
 */
record RetrievalCost(double[] embedMs, double[] searchMs, double[] gatherMs, double[] uploadMs) {

    /** Search + gather of each call. */
    double[] searchGatherMs() {
        double[] out = new double[searchMs.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = searchMs[i] + gatherMs[i];
        }
        return out;
    }

    /** Search + gather + upload of each call: everything after the query embedding. */
    double[] searchGatherUploadMs() {
        double[] out = searchGatherMs();
        for (int i = 0; i < out.length; i++) {
            out[i] += uploadMs[i];
        }
        return out;
    }

    static RetrievalCost ofRetrievals(List<Retrieval> retrievals) {
        int n = retrievals.size();
        double[] e = new double[n];
        double[] s = new double[n];
        double[] g = new double[n];
        double[] u = new double[n];
        for (int i = 0; i < n; i++) {
            Retrieval.Timings t = retrievals.get(i).timings();
            e[i] = t.embedNanos() / 1e6;
            s[i] = t.searchNanos() / 1e6;
            g[i] = t.gatherNanos() / 1e6;
            u[i] = t.uploadNanos() / 1e6;
        }
        return new RetrievalCost(e, s, g, u);
    }

    Map<String, Object> meansMs() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("embed", Samples.mean(embedMs));
        m.put("search", Samples.mean(searchMs));
        m.put("gather", Samples.mean(gatherMs));
        m.put("upload", Samples.mean(uploadMs));
        m.put("calls", embedMs.length);
        return m;
    }
}
