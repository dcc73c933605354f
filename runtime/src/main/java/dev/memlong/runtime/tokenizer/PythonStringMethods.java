package dev.memlong.runtime.tokenizer;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The Python {@code str} and {@code dict} methods chat templates call ({@code content.strip()},
 * {@code role.startswith('tool')}, {@code message.get('tool_calls')}, ...), which Jinjava would otherwise look up
 * as Java methods and not find. Placed before Jinjava's own resolvers; resolves only the calls it knows.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(method instanceof String name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        if (base instanceof String s) {
            result = stringMethod(s, name, args);
        } else if (base instanceof Map<?, ?> map && name.equals("get") && (args.length == 1 || args.length == 2)) {
            result = map.containsKey(args[0]) ? map.get(args[0]) : (args.length == 2 ? args[1] : null);
            context.setPropertyResolved(true);
            return result;
        } else {
            return null;
        }
        if (result != NOT_A_METHOD) {
            context.setPropertyResolved(true);
            return result;
        }
        return null;
    }

    private static final Object NOT_A_METHOD = new Object();

    private static Object stringMethod(String s, String name, Object[] args) {
        return switch (name) {
            case "strip" -> PythonStrings.strip(s, chars(args), true, true);
            case "lstrip" -> PythonStrings.strip(s, chars(args), true, false);
            case "rstrip" -> PythonStrings.strip(s, chars(args), false, true);
            case "startswith" -> affixes(args).stream().anyMatch(s::startsWith);
            case "endswith" -> affixes(args).stream().anyMatch(s::endsWith);
            case "split" -> PythonStrings.split(s, args.length > 0 && args[0] != null ? args[0].toString() : null,
                    args.length > 1 ? ((Number) args[1]).intValue() : -1);
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> PythonStrings.title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "replace" -> args.length == 3
                    ? PythonStrings.replace(s, args[0].toString(), args[1].toString(), ((Number) args[2]).intValue())
                    : s.replace(args[0].toString(), args[1].toString());
            case "find" -> (long) s.indexOf(args[0].toString());
            case "count" -> PythonStrings.count(s, args[0].toString());
            case "join" -> PythonStrings.join(s, args[0]);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(PythonStrings::isSpace);
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            default -> NOT_A_METHOD;
        };
    }

    private static String chars(Object[] args) {
        return args.length > 0 && args[0] != null ? args[0].toString() : null;
    }

    private static List<String> affixes(Object[] args) {
        List<String> out = new ArrayList<>();
        if (args.length > 0 && args[0] instanceof Collection<?> many) {
            many.forEach(item -> out.add(String.valueOf(item)));
        } else if (args.length > 0) {
            out.add(String.valueOf(args[0]));
        }
        return out;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // not resolved here: assignment is left to Jinjava's resolvers
    }
}
