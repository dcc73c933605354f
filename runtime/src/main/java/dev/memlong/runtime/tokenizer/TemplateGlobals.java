package dev.memlong.runtime.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The functions and filters transformers adds to the Jinja environment of chat templates
 * ({@code raise_exception}, {@code strftime_now}, its own {@code tojson}), and {@code trim} with Python's notion
 * of whitespace.
 */
final class TemplateGlobals {

    private TemplateGlobals() {}

    /** Thrown by {@code raise_exception(message)}; becomes a {@link ChatTemplateException}. */
    static final class TemplateRaise extends RuntimeException {
        TemplateRaise(String message) {
            super(message, null, false, false);
        }
    }

    static void install(Jinjava jinjava) {
        var context = jinjava.getGlobalContext();
        context.registerFunction(new ELFunctionDefinition("", "raise_exception", TemplateGlobals.class,
                "raiseException", Object.class));
        context.registerFunction(new ELFunctionDefinition("", "strftime_now", TemplateGlobals.class,
                "strftimeNow", String.class));
        context.registerFilter(new ToJson());
        context.registerFilter(new Trim());
    }

    public static Object raiseException(Object message) {
        throw new TemplateRaise(String.valueOf(message));
    }

    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    /** Python's {@code datetime.strftime} for the directives templates use, C locale. */
    static String strftime(ZonedDateTime time, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char directive = format.charAt(++i);
            String pattern = switch (directive) {
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'm' -> "MM";
                case 'd' -> "dd";
                case 'B' -> "MMMM";
                case 'b', 'h' -> "MMM";
                case 'A' -> "EEEE";
                case 'a' -> "EEE";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'p' -> "a";
                case 'j' -> "DDD";
                case 'f' -> "SSSSSS";
                case 'z' -> "xx";
                case 'Z' -> "zzz";
                default -> null;
            };
            if (pattern != null) {
                out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(time));
            } else if (directive == '%') {
                out.append('%');
            } else {
                out.append('%').append(directive);
            }
        }
        return out.toString();
    }

    /** transformers' {@code tojson}: {@code json.dumps(x, ensure_ascii=False, indent, separators, sort_keys)}. */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.dumps(var, null, null, false);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.get("indent");
            Object separators = kwargs.get("separators");
            boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            return PythonJson.dumps(var, indent, separators instanceof List<?> list ? list : null, sortKeys);
        }
    }

    /** jinja2's {@code trim(value, chars=None)}: Python's {@code str.strip}. */
    static final class Trim implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            String chars = args.length > 0 ? args[0] : null;
            return var == null ? "" : PythonStrings.strip(var.toString(), chars, true, true);
        }
    }
}
