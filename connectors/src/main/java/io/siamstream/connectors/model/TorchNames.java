package io.siamstream.connectors.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Maps DJL parameter names of siamstream's blocks to the names that {@code state_dict()} of the equivalent PyTorch
 * module uses, deterministically from the module structure (the PyTorch peer is {@code bench/pytorch_step.py}:
 * encoders and heads are {@code nn.Sequential}s, residual blocks are modules with attributes).
 *
 * <p>DJL names are {@code _}-joined paths of numbered children ({@code NNname}, NN from 01) ending in the parameter:
 * {@code 04layer1_01block0_01residual_01conv1_weight}. The rules:
 * <ul>
 *   <li>a child of a sequence (NamedSequential) is its position: {@code NN - 1} (ReLU and pooling count, as they
 *       do in {@code nn.Sequential});</li>
 *   <li>a residual block's {@code residual} branch is not a module of its own in PyTorch: its children are the
 *       block's attributes by name ({@code conv1, bn1, conv2, bnLast}; ResNet-50 also {@code bn2, conv3});
 *       {@code shortcut} is an attribute holding a sequence (conv, bn);</li>
 *   <li>the network's heads are attributes ({@code projector}, {@code predictor}) holding sequences;</li>
 *   <li>parameters: {@code weight, bias} stay, BatchNorm's {@code gamma, beta, runningMean, runningVar} become
 *       {@code weight, bias, running_mean, running_var}; PyTorch also has {@code num_batches_tracked} per BatchNorm
 *       (not kept by DJL: see {@link ModelArtifacts}).</li>
 * </ul>
 * So ConvNet's {@code 02bn1_runningVar} is {@code 1.running_var}, ResNet-18's
 * {@code 05layer2_01block0_02shortcut_01conv_weight} is {@code 4.0.shortcut.0.weight}, and the projector's
 * {@code 02projector_01fc1_weight} is {@code projector.0.weight}. An unknown parameter or name fails.
 */
public final class TorchNames {

    private TorchNames() {}

    /** The PyTorch name of a parameter of the encoder (a DJL name inside the encoder, e.g. {@code 01conv1_weight}). */
    public static String encoder(String djlName) {
        return map(djlName, false);
    }

    /**
     * The PyTorch name of a head parameter, a DJL name inside the online network such as
     * {@code 02projector_01fc1_weight}: {@code projector.0.weight}.
     */
    public static String head(String djlName) {
        return map(djlName, true);
    }

    /** The PyTorch parameter name of a DJL parameter name, or an exception. */
    public static String parameter(String djlParameter) {
        return switch (djlParameter) {
            case "weight", "gamma" -> "weight";
            case "bias", "beta" -> "bias";
            case "runningMean" -> "running_mean";
            case "runningVar" -> "running_var";
            default -> throw new IllegalArgumentException("no PyTorch name for the DJL parameter '" + djlParameter + "'");
        };
    }

    /** Whether the DJL parameter is a BatchNorm running variance (the last of a BatchNorm's tensors in both orders). */
    public static boolean isRunningVar(String djlName) {
        return djlName.endsWith("_runningVar");
    }

    /** The PyTorch module path (without the parameter) of a DJL parameter name. */
    public static String module(String torchName) {
        int dot = torchName.lastIndexOf('.');
        return dot < 0 ? "" : torchName.substring(0, dot);
    }

    private static String map(String djlName, boolean attributeAtTop) {
        String[] segments = djlName.split("_");
        if (segments.length < 2) {
            throw new IllegalArgumentException("'" + djlName + "' is not a parameter of a block");
        }
        List<String> out = new ArrayList<>();
        boolean sequence = !attributeAtTop;
        for (int i = 0; i < segments.length - 1; i++) {
            String s = segments[i];
            if (s.length() < 3 || !Character.isDigit(s.charAt(0)) || !Character.isDigit(s.charAt(1))) {
                throw new IllegalArgumentException("'" + djlName + "': '" + s + "' is not a numbered child block");
            }
            int position = Integer.parseInt(s.substring(0, 2)) - 1;
            String name = s.substring(2);
            if (name.equals("residual")) {
                sequence = false;  // the branch's children are the residual block's attributes
                continue;
            }
            if (name.equals("shortcut")) {
                out.add("shortcut");
                sequence = true;
                continue;
            }
            out.add(sequence ? String.valueOf(position) : name);
            sequence = true;
        }
        out.add(parameter(segments[segments.length - 1]));
        return String.join(".", out);
    }

    /** Checks that {@code names} (DJL) map to distinct PyTorch names; returns the mapping's size. */
    static int checkDistinct(Map<String, String> mapping) {
        if (new java.util.HashSet<>(mapping.values()).size() != mapping.size()) {
            throw new IllegalStateException("two DJL parameters map to one PyTorch name: " + mapping);
        }
        return mapping.size();
    }
}
