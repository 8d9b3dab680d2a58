/**
 * TensorRT-LLM configuration for a Skip Softmax arm (`trtllm-serve --extra_llm_api_options file.yaml`). A phase
 * with factor 0 is left out, which TensorRT-LLM runs dense; both 0 gives no sparse_attention_config at all.
 */
export function trtllmSkipSoftmaxYaml(factors: { prefill: number; decode: number } | undefined): string {
  const phases = Object.entries(factors ?? {}).filter(([, f]) => f > 0);
  if (phases.length === 0) return '# dense: no sparse_attention_config\n';
  return [
    'sparse_attention_config:',
    '  algorithm: skip_softmax',
    `  threshold_scale_factor: {${phases.map(([p, f]) => `${p}: ${f}`).join(', ')}}`,
    '',
  ].join('\n');
}
