import { describe, expect, it } from 'vitest';
import { createBurnedInRuleDetector, DEFAULT_BURNED_IN_RULES } from '../../src/detect/burned-in-rules.js';
import type { InstanceFacts } from '../../src/detect/detector.js';

const facts = (f: Partial<InstanceFacts>): InstanceFacts => ({
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2', modality: 'CT', imageType: ['ORIGINAL', 'PRIMARY'], burnedInAnnotation: '',
  manufacturer: 'ACME', modelName: 'X1', ...f,
});
const detector = createBurnedInRuleDetector(DEFAULT_BURNED_IN_RULES);
const rules = async (f: Partial<InstanceFacts>) => (await detector.inspect(facts(f), [])).map((x) => x.rule);

describe('burned-in rules', () => {
  it('passes an ordinary CT', async () => {
    expect(await rules({})).toEqual([]);
    expect(await rules({ imageType: ['DERIVED', 'SECONDARY', 'MPR'] })).toEqual([]);
  });
  it('quarantines BurnedInAnnotation YES whatever else', async () => {
    expect(await rules({ burnedInAnnotation: 'YES' })).toEqual(['burned-in-annotation']);
  });
  it('quarantines ultrasound, secondary capture and screen saves unless BurnedInAnnotation is NO', async () => {
    expect(await rules({ modality: 'US', sopClassUid: '1.2.840.10008.5.1.4.1.1.6.1' })).toEqual(['ultrasound', 'ultrasound-class']);
    expect(await rules({ modality: 'US', burnedInAnnotation: 'NO' })).toEqual([]);
    expect(await rules({ sopClassUid: '1.2.840.10008.5.1.4.1.1.7.4', modality: 'OT' })).toEqual(['secondary-capture']);
    expect(await rules({ imageType: ['DERIVED', 'SECONDARY', 'SCREEN SAVE'] })).toEqual(['screen-save']);
  });
  it('always quarantines encapsulated documents', async () => {
    expect(await rules({ sopClassUid: '1.2.840.10008.5.1.4.1.1.104.1', burnedInAnnotation: 'NO' })).toEqual(['encapsulated-document']);
  });
  it('matches configured device rules by manufacturer and model, case-insensitively', async () => {
    const d = createBurnedInRuleDetector([{ name: 'old-scanner', reason: 'prints names', manufacturer: ['acme'], modelName: ['x1'] }]);
    expect((await d.inspect(facts({}), [])).map((f) => f.rule)).toEqual(['old-scanner']);
    expect((await d.inspect(facts({ modelName: 'X2' }), [])).map((f) => f.rule)).toEqual([]);
  });
});
