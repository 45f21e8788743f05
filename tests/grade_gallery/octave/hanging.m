function [J grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size, ...
                                   num_labels, X, y, lambda)
%NNCOSTFUNCTION Never returns: the loop counter is never increased.
J = 0;
t = 1;
while t <= size(X, 1)
  J = J + 1;
end
grad = zeros(size(nn_params));
end
