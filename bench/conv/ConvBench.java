import ai.djl.engine.Engine;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.*;

/**
 * The convolutions of one training step alone, through DJL's libtorch: forward and backward (ones as the output
 * gradient) of each shape, median calling-thread CPU ms over ITERS, weighted by how often the shape occurs in a step.
 * Compare with conv_bench.py (the same shapes in the Python peer's PyTorch). Run with one intra-op thread, so the
 * calling thread does all the work and its CPU time is the op's cost:
 * {@code OMP_NUM_THREADS=1 java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -cp CLASSPATH
 * bench/conv/ConvBench.java ITERS N,CIN,COUT,H,K,STRIDE,PAD,COUNT,INPUT_GRAD ...}
 * With PROFILE_TRACE set, one more forward and backward of every shape runs afterwards under libtorch's profiler (with
 * input shapes), written there as a Chrome trace: bench/conv/backward_copies.py reads it to find the copies inside
 * each convolution's backward. With CHANNELS_LAST=1 the inputs and weights are laid out channels last (NHWC strides
 * of the same NCHW arrays), with CHANNELS_LAST_ONLY=input too only the inputs, as siamstream's backbones run.
 */
public class ConvBench {
    static final java.lang.management.ThreadMXBean TM = java.lang.management.ManagementFactory.getThreadMXBean();

    /** One shape's operands and geometry, timed first and kept for the profiled pass. */
    record Conv(NDArray x, NDArray w, int stride, int pad) {
        NDArray forward() {
            return Conv2d.conv2d(x, w, null, new Shape(stride, stride), new Shape(pad, pad)).singletonOrThrow();
        }
    }

    /** CHANNELS_LAST=1: the same logical NCHW tensor laid out as the backbones lay out their input. */
    static NDArray layout(NDArray nchw) {
        return "1".equals(System.getenv("CHANNELS_LAST")) ? io.siamstream.model.Layers.channelsLast(nchw) : nchw;
    }

    public static void main(String[] a) {
        // args: iters, then groups of n,cin,cout,h,k,stride,pad,count,inputGrad
        int iters = Integer.parseInt(a[0]);
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (NDManager m = NDManager.newBaseManager()) {
            double fwdTotal = 0, bwdTotal = 0;
            List<Conv> convs = new ArrayList<>();
            long cpu0 = os.getProcessCpuTime();
            for (int g = 1; g < a.length; g++) {
                String[] f = a[g].split(",");
                int n = Integer.parseInt(f[0]), cin = Integer.parseInt(f[1]), cout = Integer.parseInt(f[2]), h = Integer.parseInt(f[3]),
                    k = Integer.parseInt(f[4]), s = Integer.parseInt(f[5]), p = Integer.parseInt(f[6]), count = Integer.parseInt(f[7]);
                boolean ig = f[8].equals("1");
                NDArray x = layout(m.randomNormal(new Shape(n, cin, h, h)));
                NDArray w = m.randomNormal(new Shape(cout, cin, k, k)).mul(0.05f);
                if (!"input".equals(System.getenv("CHANNELS_LAST_ONLY"))) w = layout(w);
                w.setRequiresGradient(true);
                if (ig) x.setRequiresGradient(true);
                Conv conv = new Conv(x, w, s, p);
                double[] fw = new double[iters], bw = new double[iters];
                for (int i = 0; i < iters + 2; i++) {
                    try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        long t0 = TM.getCurrentThreadCpuTime();
                        NDArray y = conv.forward();
                        long t1 = TM.getCurrentThreadCpuTime();
                        gc.backward(y);
                        long t2 = TM.getCurrentThreadCpuTime();
                        if (i >= 2) { fw[i - 2] = (t1 - t0) / 1e6; bw[i - 2] = (t2 - t1) / 1e6; }
                    }
                    JniUtils.setGradMode(false);
                    JniUtils.zeroGrad((PtNDArray) w);
                    if (ig) JniUtils.zeroGrad((PtNDArray) x);
                }
                convs.add(conv);
                Arrays.sort(fw); Arrays.sort(bw);
                double f1 = fw[iters / 2], b1 = bw[iters / 2];
                fwdTotal += f1 * count; bwdTotal += b1 * count;
                System.out.printf(Locale.ROOT, "{\"side\": \"djl\", \"shape\": \"%s\", \"fwd_ms\": %.3f, \"bwd_ms\": %.3f}%n", a[g], f1, b1);
            }
            String trace = System.getenv("PROFILE_TRACE");
            if (trace != null && !trace.isEmpty()) {
                JniUtils.startProfile(false, true, false);
                for (Conv conv : convs) {
                    try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(conv.forward());
                    }
                }
                JniUtils.stopProfile(trace);
            }
            System.out.printf(Locale.ROOT, "{\"side\": \"djl\", \"total_fwd_ms\": %.2f, \"total_bwd_ms\": %.2f, \"cpu_s\": %.2f}%n",
                fwdTotal, bwdTotal, (os.getProcessCpuTime() - cpu0) / 1e9);
        }
    }
}
