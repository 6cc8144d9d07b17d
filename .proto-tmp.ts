import graphene from 'graphene-pk11';
import { execFileSync } from 'node:child_process';
const m = graphene.Module.load('/usr/lib/softhsm/libsofthsm2.so');
m.initialize({ flags: 2 });
console.log('slots', m.getSlots(true).length, m.getSlots(true).items(0).getToken().label.trim());
execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'b', '--pin', '1234', '--so-pin', '5678']);
const ls = () => { const s = m.getSlots(true); const out=[]; for (let i=0;i<s.length;i++) out.push(s.items(i).getToken().label.trim()); return out; };
console.log('after ext init', ls());
m.finalize();
m.initialize({ flags: 2 });
console.log('after reinit', ls());
try { m.initialize({flags:2}); } catch (e) { console.log('again', e.message); }
const s = m.getSlots(true).items(0).open(graphene.SessionFlag.SERIAL_SESSION);
try { s.login('9999'); } catch (e: any) { console.log('wrong pin', e.constructor.name, e.message, e.code); }
s.login('1234');
try { s.login('1234'); } catch (e: any) { console.log('relogin', e.message, e.code); }
console.log(Object.keys(graphene).filter(k=>/Flag|Type|Class/.test(k)).join(' '));
