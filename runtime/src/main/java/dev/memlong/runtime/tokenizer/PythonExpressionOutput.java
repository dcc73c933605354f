package dev.memlong.runtime.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.expression.ExpressionStrategy;
import com.hubspot.jinjava.mode.ExecutionMode;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;

/**
 * Writes {@code {{ expression }}} values as Python's {@code str()} does where Jinjava differs: booleans as
 * {@code True}/{@code False}. Never interprets the output again, so message text containing {@code {{ }}} stays
 * text. (None and undefined both print as nothing: Jinjava cannot tell them apart.)
 */
final class PythonExpressionOutput implements ExpressionStrategy {

    private static final long serialVersionUID = 1L;

    /** Jinjava's default execution, with this strategy installed in every render's context. */
    static final ExecutionMode MODE = new ExecutionMode() {
        @Override
        public void prepareContext(com.hubspot.jinjava.interpret.Context context) {
            context.setExpressionStrategy(new PythonExpressionOutput());
        }
    };

    @Override
    public RenderedOutputNode interpretOutput(ExpressionToken token, JinjavaInterpreter interpreter) {
        Object value = interpreter.resolveELExpression(token.getExpr(), token.getLineNumber());
        String text = value instanceof Boolean b ? (b ? "True" : "False") : interpreter.getAsString(value);
        return new RenderedOutputNode(text);
    }
}
