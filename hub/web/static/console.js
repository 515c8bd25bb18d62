(function(){
  var root = document.getElementById('overview');
  if (!root) return;
  function cell(tr, text, cls){var td=document.createElement('td');td.textContent=text;
    if(cls)td.className=cls;tr.appendChild(td);return td;}
  function age(s){if(!s)return 'none';if(s<90)return Math.round(s)+' s';
    if(s<5400)return Math.round(s/60)+' min';return (s/3600).toFixed(1)+' h';}
  function render(data){
    var flows=document.getElementById('flows-body');flows.textContent='';
    data.flows.forEach(function(f){var tr=document.createElement('tr');
      tr.dataset.flow=f.flow;cell(tr,f.flow);cell(tr,f.state,f.state);cell(tr,age(f.lag_seconds));
      data.statuses.forEach(function(s){cell(tr,String(f.records[s]||0),'num').dataset.status=s;});
      flows.appendChild(tr);});
    var parked=document.getElementById('parked-body');
    var checked={};parked.querySelectorAll('input:checked').forEach(function(i){checked[i.value]=1;});
    parked.textContent='';
    data.parked.forEach(function(p){var tr=document.createElement('tr');tr.dataset.id=p.id;
      var td=document.createElement('td');if(data.admin){var cb=document.createElement('input');
        cb.type='checkbox';cb.name='id';cb.value=p.id;cb.checked=!!checked[p.id];
        cb.setAttribute('form','replay-form');td.appendChild(cb);}tr.appendChild(td);
      var a=document.createElement('a');a.href='/record?id='+p.id;a.textContent='#'+p.id+' '+p.external_id;
      var c=document.createElement('td');c.appendChild(a);tr.appendChild(c);
      cell(tr,p.flow);cell(tr,p.reason,'reason');cell(tr,String(p.attempts),'num');parked.appendChild(tr);});
    document.getElementById('parked-count').textContent=String(data.parked.length);
    var errs=document.getElementById('errors-body');errs.textContent='';
    data.errors.forEach(function(e){var tr=document.createElement('tr');cell(tr,e.flow);
      cell(tr,'#'+e.id+' '+e.external_id);cell(tr,e.status);cell(tr,e.error,'reason');errs.appendChild(tr);});
    document.getElementById('updated').textContent=new Date().toLocaleTimeString();
  }
  function poll(){fetch('/api/overview'+location.search,{credentials:'same-origin'})
    .then(function(r){if(r.status===401){location.href='/login';return null;}return r.json();})
    .then(function(d){if(d)render(d);}).catch(function(){});}
  setInterval(poll, Number(root.dataset.interval||3000));
})();
(function(){
  var rec=document.getElementById('record');
  if(!rec||rec.dataset.live!=='1')return;
  setInterval(function(){fetch('/api/record?id='+rec.dataset.id,{credentials:'same-origin'})
    .then(function(r){return r.ok?r.json():null;}).then(function(d){
      if(!d)return;var s=document.getElementById('record-status');
      if(s.textContent!==d.status){location.reload();}});},2000);
})();
