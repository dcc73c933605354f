package dev.memlong.runtime.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.memlong.runtime.checkpoint.CheckpointException;
import jinjava.javax.el.CompositeELResolver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template, rendered as transformers' {@code apply_chat_template(messages, tokenize=False)} renders
 * it: Jinja with {@code trim_blocks}, {@code lstrip_blocks}, no trailing newline kept, the variables
 * {@code messages}, {@code add_generation_prompt}, {@code tools} and {@code documents} (none), the tokenizer's
 * special tokens ({@code bos_token}, {@code eos_token}, ...), and the functions {@code raise_exception} and
 * {@code strftime_now}. Jinjava runs it, extended with the Python string methods and the {@code tojson} that
 * templates rely on.
 *
 * <p>Thread-safe: one instance may render for many conversations at once.
 */
public final class ChatTemplate {

    /** The file transformers 4.50+ writes the template to, preferred over tokenizer_config.json's. */
    public static final String JINJA_FILE = "chat_template.jinja";

    /** Jinjava's switches towards Python jinja2 behaviour. */
    private static final LegacyOverrides PYTHON_SEMANTICS = LegacyOverrides.newBuilder()
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withAllowAdjacentTextNodes(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .build();

    private final String source;
    private final String origin;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String origin, Map<String, Object> specialTokens) {
        this.source = withoutTrailingNewline(source);
        this.origin = origin;
        this.specialTokens = Map.copyOf(specialTokens);
        this.jinjava = newEngine();
        checkSyntax();
    }

    /**
     * The chat template of a model directory: {@code chat_template.jinja} if present, else the
     * {@code chat_template} of {@code tokenizer_config.json}; special tokens from tokenizer_config.json.
     *
     * @throws CheckpointException   if the directory has no chat template or a config file is malformed
     * @throws ChatTemplateException if the template does not compile
     */
    public static ChatTemplate open(Path modelDir) {
        return find(modelDir).orElseThrow(() -> new CheckpointException("no chat template in " + modelDir
                + ": neither " + JINJA_FILE + " nor a chat_template in " + HfTokenizerConfig.FILE));
    }

    /** Like {@link #open} but empty when the model has no chat template (a base model). */
    public static Optional<ChatTemplate> find(Path modelDir) {
        HfTokenizerConfig config = HfTokenizerConfig.read(modelDir, new ObjectMapper());
        Map<String, Object> tokens = new LinkedHashMap<>(config.specialTokens());
        if (!config.additionalSpecial().isEmpty()) {
            tokens.put("additional_special_tokens", config.additionalSpecial());
        }
        Path jinjaFile = modelDir.resolve(JINJA_FILE);
        if (Files.isRegularFile(jinjaFile)) {
            try {
                return Optional.of(new ChatTemplate(Files.readString(jinjaFile), jinjaFile.toString(), tokens));
            } catch (IOException e) {
                throw new CheckpointException("cannot read " + jinjaFile + ": " + e.getMessage(), e);
            }
        }
        String origin = modelDir.resolve(HfTokenizerConfig.FILE) + " (chat_template)";
        return config.chatTemplate().map(source -> new ChatTemplate(source, origin, tokens));
    }

    /**
     * A template given as text.
     *
     * @param origin        where it came from, for error messages
     * @param specialTokens variables such as {@code bos_token -> "<s>"}
     */
    public static ChatTemplate of(String source, String origin, Map<String, ?> specialTokens) {
        return new ChatTemplate(source, origin, new LinkedHashMap<>(specialTokens));
    }

    /** Renders a conversation; {@code addGenerationPrompt} opens the assistant's turn at the end. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> values = new ArrayList<>();
        messages.forEach(message -> values.add(message.toTemplateValue()));
        return render(values, addGenerationPrompt, Map.of());
    }

    /**
     * Renders messages given as maps (for fields beyond role and content, e.g. {@code tool_calls}), with extra
     * variables that override the defaults (e.g. {@code tools}, {@code date_string}).
     *
     * @throws ChatTemplateException if rendering fails or the template raises an exception
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
                         Map<String, ?> variables) {
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.put("messages", messages);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("tools", null);
        bindings.put("documents", null);
        bindings.putAll(variables);
        RenderResult result = jinjava.renderForResult(source, bindings);
        fatal(result.getErrors()).ifPresent(error -> {
            throw failure("cannot render", error);
        });
        return result.getOutput();
    }

    /** The template text (without the trailing newline Jinja drops). */
    public String source() {
        return source;
    }

    /** Where the template came from (a file, or the text passed to {@link #of}). */
    public String origin() {
        return origin;
    }

    /**
     * Fails fast on syntax errors: Jinjava parses tags when the template is parsed but expressions only when they
     * run, so a trial render over a one-message conversation checks the expressions it reaches.
     */
    private void checkSyntax() {
        JinjavaInterpreter interpreter = jinjava.newInterpreter();
        interpreter.parse(source);
        fatal(interpreter.getErrorsCopy()).ifPresent(error -> {
            throw failure("cannot compile", error);
        });
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.put("messages", List.of(new ChatMessage("user", "hello").toTemplateValue()));
        bindings.put("add_generation_prompt", true);
        jinjava.renderForResult(source, bindings).getErrors().stream()
                .filter(error -> error.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR)
                .findFirst()
                .ifPresent(error -> {
                    throw failure("cannot compile", error);
                });
    }

    private ChatTemplateException failure(String what, TemplateError error) {
        for (Throwable t = error.getException(); t != null; t = t.getCause()) {
            if (t instanceof TemplateGlobals.TemplateRaise raise) {
                return new ChatTemplateException("chat template " + origin + " raised: " + raise.getMessage(),
                        raise.getMessage(), raise);
            }
        }
        return new ChatTemplateException(what + " chat template " + origin + ": line " + error.getLineno() + ": "
                + error.getMessage(), error.getException());
    }

    private static Optional<TemplateError> fatal(List<TemplateError> errors) {
        return errors.stream().filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).findFirst();
    }

    private static Jinjava newEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withLegacyOverrides(PYTHON_SEMANTICS)
                .withNestedInterpretationEnabled(false)
                .withExecutionMode(PythonExpressionOutput.MODE)
                .build();
        Jinjava jinjava = new Jinjava(config);
        // A model's template must not read class-path resources through {% include %} / {% import %}.
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new IOException("chat templates cannot include other templates (" + name + ")");
        });
        TemplateGlobals.install(jinjava);
        return jinjava;
    }

    /** jinja2 with {@code keep_trailing_newline=False} drops one newline at the very end of the source. */
    static String withoutTrailingNewline(String source) {
        if (source.endsWith("\r\n")) {
            return source.substring(0, source.length() - 2);
        }
        if (source.endsWith("\n") || source.endsWith("\r")) {
            return source.substring(0, source.length() - 1);
        }
        return source;
    }
}
